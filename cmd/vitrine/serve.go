package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitrine/vitrine/vips"
)

// removeStaleUploads deletes temporary uploads left by a crash.
func removeStaleUploads(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "upload-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				log.Warn("remove stale upload", "file", e.Name(), "err", err)
			}
		}
	}
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, _, err := loadConfig("serve", args, getenv, stderr, server, nil)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	if err := os.MkdirAll(cfg.TempDir(), 0o700); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	// Only the server writes temporary uploads, so only it clears those a
	// crash left behind.
	removeStaleUploads(cfg.TempDir(), log)
	// Init starts libvips once per process; main shuts it down at exit, so
	// that tests can call run more than once.
	if err := vips.Init(cfg.VipsConcurrency); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.close(context.Background())
		return err
	}
	srv := &http.Server{
		Handler: a.handler(),
		// Slow clients must not hold connections for ever; an upload of the
		// largest file still has minutes.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir, "render_workers", cfg.RenderWorkers, "render_memory", formatBytes(cfg.RenderMemory))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("stopping")
	}
	stop, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(stop), a.close(stop))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}
