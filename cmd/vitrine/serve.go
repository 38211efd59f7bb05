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

	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/httpapi"
	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/vips"
)

// app is everything an open vitrine holds.
type app struct {
	cfg    Config
	log    *slog.Logger
	pool   *sqldb.Pool
	db     *sqldb.DB
	queue  *jobs.Queue
	blobs  *blob.Local
	runner *jobs.Runner
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level)) // validated by loadConfig
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens and migrates the database and wires the store to the
// job queue.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*sqldb.Pool, *sqldb.DB, *jobs.Queue, error) {
	pool, err := sqldb.Open(ctx, "sqlite:"+cfg.DatabasePath())
	if err != nil {
		return nil, nil, nil, err
	}
	if err := migrate(ctx, pool, log); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	queue, err := jobs.NewQueue(pool.Write, log)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return pool, sqldb.New(pool, queue), queue, nil
}

func migrate(ctx context.Context, pool *sqldb.Pool, log *slog.Logger) error {
	applied, err := sqldb.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	river, err := jobs.Migrate(ctx, pool.Write)
	if err != nil {
		return err
	}
	if len(applied) > 0 || river > 0 {
		log.Info("migrated", "vitrine_versions", applied, "river_versions", river)
	}
	return nil
}

// openApp opens every dependency of the server and starts the workers.
func openApp(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	blobs, err := blob.NewLocal(cfg.MediaDir())
	if err != nil {
		return nil, err
	}
	pool, db, queue, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	runner, err := jobs.NewRunner(pool.Write, jobs.RunnerConfig{
		RenderWorkers: cfg.RenderWorkers,
		PollInterval:  cfg.PollInterval,
		Specs:         cfg.Renditions,
	}, log, db, blobs, vips.NewRenderer())
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := runner.Start(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("start workers: %w", err)
	}
	return &app{cfg: cfg, log: log, pool: pool, db: db, queue: queue, blobs: blobs, runner: runner}, nil
}

// handler returns the HTTP interface of the app.
func (a *app) handler() http.Handler {
	return httpapi.NewServer(httpapi.Config{
		PublicURL:           a.cfg.PublicURL,
		TrustProxy:          a.cfg.TrustProxy,
		ProductImageLimits:  a.cfg.ProductImageLimits(),
		GalleryLimits:       a.cfg.GalleryLimits(),
		MaxImagesPerProduct: a.cfg.MaxImagesPerProduct,
		MaxBulkFiles:        a.cfg.MaxBulkFiles,
		TempDir:             a.cfg.TempDir(),
	}, a.log, a.db, a.db, a.db, vips.NewRenderer(), a.blobs, a.blobs.FS(), a.db.Ping)
}

// close stops the workers (waiting for jobs in flight until ctx ends) and
// closes the database.
func (a *app) close(ctx context.Context) error {
	err := a.runner.Stop(ctx)
	return errors.Join(err, a.pool.Close())
}

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
	log.Info("serving", "addr", ln.Addr().String(), "data_dir", cfg.DataDir)
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
