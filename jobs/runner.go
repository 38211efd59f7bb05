package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/vitrine/vitrine"
)

// RunnerConfig sizes the workers.
type RunnerConfig struct {
	// RenderWorkers bounds how many images render at once (each holds a
	// decoded image in memory and keeps one core busy).
	RenderWorkers int
	// PollInterval is how often idle workers look for new jobs. The SQLite
	// driver cannot be notified of inserts, so this is the pickup latency.
	PollInterval time.Duration
	Specs        []vitrine.Spec
}

// Runner works render and delete jobs.
type Runner struct {
	client *river.Client[*sql.Tx]
}

// NewRunner returns a Runner over the database's write pool. Call Start to
// begin working and Stop to finish.
func NewRunner(db *sql.DB, cfg RunnerConfig, log *slog.Logger, store renderStore, blobs blobStore, render renderer) (*Runner, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &RenderWorker{store: store, blobs: blobs, render: render, specs: cfg.Specs, log: log})
	river.AddWorker(workers, &DeleteWorker{blobs: blobs})
	poll := max(cfg.PollInterval, 10*time.Millisecond)
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Logger: log,
		Queues: map[string]river.QueueConfig{
			QueueRender:  {MaxWorkers: max(cfg.RenderWorkers, 1)},
			QueueDefault: {MaxWorkers: 2},
		},
		Workers:           workers,
		FetchCooldown:     poll / 2,
		FetchPollInterval: poll,
		// A render of a 50 MP image takes seconds; a job still running after
		// this long is stuck and is cancelled, then retried.
		JobTimeout: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("job runner: %w", err)
	}
	return &Runner{client: client}, nil
}

// Start begins working jobs in the background.
func (r *Runner) Start(ctx context.Context) error {
	return r.client.Start(ctx)
}

// Stop stops fetching jobs and waits for running ones until ctx ends, then
// cancels them; River retries cancelled jobs later.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if ctx.Err() != nil {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return r.client.StopAndCancel(stop)
	}
	return err
}

// Subscribe returns a channel of job events (completed, failed, cancelled),
// for tests that wait for work without sleeping.
func (r *Runner) Subscribe() (<-chan *river.Event, func()) {
	return r.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
}
