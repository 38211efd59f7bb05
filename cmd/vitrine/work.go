package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/vips"
)

// runWork serves "vitrine work": the workers without the HTTP server, for
// a separate worker tier on PostgreSQL. It stops on SIGINT/SIGTERM,
// waiting for jobs in flight up to the shutdown timeout.
func runWork(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, _, err := loadConfig("work", args, getenv, stderr, workers, nil)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if err := vips.Init(cfg.VipsConcurrency); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("working", "render_workers", cfg.RenderWorkers, "render_memory", formatBytes(cfg.RenderMemory))
	<-ctx.Done()
	log.Info("stopping")
	stop, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = a.close(stop)
	log.Info("stopped")
	return err
}

// runSweep serves "vitrine sweep": one storage sweep now, printing what it
// found. The periodic sweep runs in every serve and work process anyway
// (one node at a time).
func runSweep(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dryRun bool
	var grace time.Duration
	cfg, _, err := loadConfig("sweep", args, getenv, stderr, workers, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "report, delete nothing")
		fs.DurationVar(&grace, "grace", 0, "keep unreferenced files younger than this (default: VITRINE_SWEEP_GRACE)")
	})
	if err != nil {
		return err
	}
	if grace <= 0 {
		grace = cfg.SweepGrace
	}
	log := newLogger(stderr, "warn")
	blobs, _, err := openBlobs(ctx, cfg)
	if err != nil {
		return err
	}
	pool, db, _, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	r, err := jobs.Sweep(ctx, db, blobs, grace, dryRun)
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	for _, key := range r.Deleted {
		fmt.Fprintf(stdout, "%s %s\n", verb, key)
	}
	for _, key := range r.Missing {
		fmt.Fprintf(stdout, "missing %s (a row refers to it)\n", key)
	}
	fmt.Fprintf(stdout, "sweep: %d files, %d referenced, %d unreferenced but younger than %s, %d %s, %d rows with a missing file\n",
		r.Files, r.Referenced, r.Young, grace, len(r.Deleted), verb, len(r.Missing))
	return err
}
