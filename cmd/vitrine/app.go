package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/vitrine/vitrine/admin"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/httpapi"
	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/metrics"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/vips"
)

// blobStore is what the app needs of a file store; *blob.Local and
// *blob.S3 both are one.
type blobStore interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	URL(key string) string
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
	Ping(ctx context.Context) error
}

// app is everything an open vitrine holds.
type app struct {
	cfg     Config
	log     *slog.Logger
	pool    *sqldb.Pool
	db      *sqldb.DB
	queue   *jobs.Queue
	blobs   blobStore
	media   fs.FS // the local files vitrine serves under /media/; nil for S3
	runner  *jobs.Runner
	metrics *metrics.Metrics
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level)) // validated by loadConfig
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore opens the database, applies vitrine's and River's migrations
// (one node at a time) and wires the store to the job queue.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*sqldb.Pool, *sqldb.DB, *jobs.Queue, error) {
	pool, err := sqldb.Open(ctx, cfg.DatabaseDSN(), sqldb.Options{MaxConns: cfg.DBMaxConns, StatementTimeout: cfg.DBStatementTimeout})
	if err != nil {
		return nil, nil, nil, err
	}
	dialect := string(pool.Dialect)
	var riverVersions int
	applied, err := sqldb.Migrate(ctx, pool, func(ctx context.Context) error {
		riverVersions, err = jobs.Migrate(ctx, pool.Write, dialect)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	if len(applied) > 0 || riverVersions > 0 {
		log.Info("migrated", "vitrine_versions", applied, "river_versions", riverVersions)
	}
	queue, err := jobs.NewQueue(pool.Write, dialect, log)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return pool, sqldb.New(pool, queue), queue, nil
}

// openBlobs opens the file store the configuration names, and the local
// directory vitrine serves itself (nil for S3).
func openBlobs(ctx context.Context, cfg Config) (blobStore, fs.FS, error) {
	if dir := cfg.MediaDir(); dir != "" {
		local, err := blob.NewLocal(dir, cfg.MediaURL)
		if err != nil {
			return nil, nil, err
		}
		return local, local.FS(), nil
	}
	s3, err := blob.NewS3(ctx, blob.S3Config{
		URL:          cfg.StorageURL,
		AccessKey:    cfg.AWSAccessKey,
		SecretKey:    cfg.AWSSecretKey,
		SessionToken: cfg.AWSSessionToken,
		MediaURL:     cfg.MediaURL,
		Signed:       cfg.MediaSigned,
		SignedTTL:    cfg.MediaSignedTTL,
		CacheControl: cfg.MediaCacheControl,
		ACL:          cfg.MediaACL,
	})
	return s3, nil, err
}

// openApp opens every dependency of the server and the workers, and
// starts the workers.
func openApp(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	blobs, media, err := openBlobs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pool, db, queue, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	m := metrics.New(log, queue.JobCounts)
	runner, err := jobs.NewRunner(pool.Write, string(pool.Dialect), jobs.RunnerConfig{
		RenderWorkers: cfg.RenderWorkers,
		RenderMemory:  cfg.RenderMemory,
		PollInterval:  cfg.PollInterval,
		JobTimeout:    cfg.JobTimeout,
		RescueAfter:   cfg.JobRescueAfter,
		SweepInterval: cfg.SweepInterval,
		SweepGrace:    cfg.SweepGrace,
		Specs:         cfg.Renditions,
	}, log, m, db, blobs, vips.NewRenderer())
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := runner.Start(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("start workers: %w", err)
	}
	return &app{cfg: cfg, log: log, pool: pool, db: db, queue: queue, blobs: blobs, media: media, runner: runner, metrics: m}, nil
}

// ready checks the database and the storage, for /readyz.
func (a *app) ready(ctx context.Context) error {
	return errors.Join(a.db.Ping(ctx), a.blobs.Ping(ctx))
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
		CORSOrigins:         a.cfg.CORSOrigins,
		RateLimits:          httpapi.RateLimits{PerToken: a.cfg.RateLimitToken, PerIP: a.cfg.RateLimitIP},
		Admission: httpapi.Admission{MaxUploads: a.cfg.MaxUploads, QueueWait: a.cfg.UploadQueueWait, MaxChecks: a.cfg.UploadChecks,
			MinUploadRate: a.cfg.MinUploadRate, MinRateGrace: a.cfg.MinRateGrace},
	}, a.log, a.db, a.db, a.db, vips.NewRenderer(), a.blobs, a.media, a.ready, a.metrics, a.metrics.Handler(), admin.FS())
}

// close stops the workers (waiting for jobs in flight until ctx ends) and
// closes the database.
func (a *app) close(ctx context.Context) error {
	err := a.runner.Stop(ctx)
	return errors.Join(err, a.pool.Close())
}
