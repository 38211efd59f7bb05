package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/sync/semaphore"

	"github.com/vitrine/vitrine"
)

// RunnerConfig sizes the workers.
type RunnerConfig struct {
	// RenderWorkers bounds how many images render at once (each keeps one
	// core busy).
	RenderWorkers int
	// RenderMemory is the memory budget of the renders running at once, in
	// bytes: a render starts only when its estimated peak fits beside the
	// others'. 0 means no budget (RenderWorkers alone bounds them).
	RenderMemory int64
	// PollInterval is how often idle workers look for new jobs. Neither
	// driver is notified of inserts, so this is the pickup latency.
	PollInterval time.Duration
	// JobTimeout cancels a job running longer (a render of a 50 MP image
	// takes seconds); RescueAfter hands a job whose node died to another
	// worker once it has been running this long. Zero means 2 and 3
	// minutes.
	JobTimeout  time.Duration
	RescueAfter time.Duration
	// SweepInterval is how often the storage sweep runs (0: never), and
	// SweepGrace how old an unreferenced file must be to go.
	SweepInterval time.Duration
	SweepGrace    time.Duration
	Specs         []vitrine.Spec
}

// recorder counts what the workers do (*metrics.Metrics is one).
type recorder interface {
	ObserveRender(renditions string, d time.Duration)
	JobAttempt(kind, outcome string)
	Swept(deleted, missing int)
}

// runnerStore is what the workers need of the store.
type runnerStore interface {
	renderStore
	keyLister
}

// runnerBlobs is what the workers need of the file store.
type runnerBlobs interface {
	blobStore
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
}

// Runner works render, delete and sweep jobs.
type Runner struct {
	client *river.Client[*sql.Tx]
	rec    recorder
}

// NewRunner returns a Runner over the database's write pool; dialect is
// "postgres" or "sqlite". Call Start to begin working and Stop to finish.
func NewRunner(db *sql.DB, dialect string, cfg RunnerConfig, log *slog.Logger, rec recorder, store runnerStore, blobs runnerBlobs, render renderer) (*Runner, error) {
	workers := river.NewWorkers()
	rw := &RenderWorker{store: store, blobs: blobs, render: render, specs: cfg.Specs, log: log, rec: rec}
	if cfg.RenderMemory > 0 {
		rw.budget, rw.budgetSize = semaphore.NewWeighted(cfg.RenderMemory), cfg.RenderMemory
	}
	river.AddWorker(workers, rw)
	river.AddWorker(workers, &DeleteWorker{blobs: blobs})
	river.AddWorker(workers, &SweepWorker{rows: store, files: blobs, grace: cfg.SweepGrace, log: log, rec: rec})
	var periodic []*river.PeriodicJob
	if cfg.SweepInterval > 0 {
		// River's leader inserts it, so one node sweeps at a time.
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(cfg.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, nil))
	}
	poll := max(cfg.PollInterval, 10*time.Millisecond)
	timeout := cmp.Or(cfg.JobTimeout, 2*time.Minute)
	client, err := river.NewClient(driver(db, dialect), &river.Config{
		Logger: log,
		Queues: map[string]river.QueueConfig{
			QueueRender:  {MaxWorkers: max(cfg.RenderWorkers, 1)},
			QueueDefault: {MaxWorkers: 2},
		},
		Workers:              workers,
		PeriodicJobs:         periodic,
		FetchCooldown:        poll / 2,
		FetchPollInterval:    poll,
		PollOnly:             true,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: max(cmp.Or(cfg.RescueAfter, timeout+time.Minute), timeout+time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("job runner: %w", err)
	}
	return &Runner{client: client, rec: rec}, nil
}

// Start begins working jobs in the background, and counting their
// attempts.
func (r *Runner) Start(ctx context.Context) error {
	events, cancel := r.Subscribe()
	go func() {
		defer cancel()
		for ev := range events {
			r.rec.JobAttempt(ev.Job.Kind, attemptOutcome(ev))
		}
	}()
	return r.client.Start(ctx)
}

// attemptOutcome names how a job attempt ended: completed, retried (it
// failed and will be tried again) or failed (given up).
func attemptOutcome(ev *river.Event) string {
	switch {
	case ev.Kind == river.EventKindJobCompleted:
		return "completed"
	case ev.Kind == river.EventKindJobFailed && ev.Job.State == rivertype.JobStateRetryable:
		return "retried"
	}
	return "failed"
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
