package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/vitrine/vitrine"
)

// Queue names. Rendering has its own queue so that its concurrency can be
// bounded without holding up file deletions.
const (
	QueueRender  = "render"
	QueueDefault = river.QueueDefault
)

// RenderArgs asks for the renditions of one gallery image: every
// configured one, or only those named in Only.
type RenderArgs struct {
	// Only the image counts for uniqueness: one pending render per image
	// is enough, whatever it was asked to make.
	ImageID int64    `json:"image_id" river:"unique"`
	Only    []string `json:"only,omitempty"`
}

// Kind names the job kind in River's table.
func (RenderArgs) Kind() string { return "render_image" }

// InsertOpts puts render jobs on their own queue.
func (RenderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRender, MaxAttempts: 8}
}

// DeleteArgs asks for files to be deleted from storage.
type DeleteArgs struct {
	Keys []string `json:"keys"`
}

// Kind names the job kind in River's table.
func (DeleteArgs) Kind() string { return "delete_files" }

// InsertOpts retries deletions for a long time: a file left behind is a leak.
func (DeleteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 25}
}

// driver returns River's driver for the database's dialect ("postgres" or
// "sqlite"). On PostgreSQL it is the database/sql driver over pgx, so that
// River shares the store's *sql.Tx; it cannot LISTEN, so workers poll,
// which is fine for image jobs.
func driver(db *sql.DB, dialect string) riverdriver.Driver[*sql.Tx] {
	if dialect == "postgres" {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// Queue inserts jobs. It is an insert-only River client: it works nothing.
type Queue struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB
}

// NewQueue returns a Queue over the database's write pool; dialect is
// "postgres" or "sqlite".
func NewQueue(db *sql.DB, dialect string, log *slog.Logger) (*Queue, error) {
	client, err := river.NewClient(driver(db, dialect), &river.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client, db: db}, nil
}

// requestOpts carries the id of the request that enqueues a job into the
// job's metadata, so the worker's logs can be joined with the request's.
func requestOpts(ctx context.Context) *river.InsertOpts {
	id := vitrine.RequestID(ctx)
	if id == "" {
		return nil
	}
	meta, _ := json.Marshal(map[string]string{"request_id": id})
	return &river.InsertOpts{Metadata: meta}
}

// JobCounts returns the number of jobs per kind and state, for metrics.
func (q *Queue) JobCounts(ctx context.Context) (map[[2]string]int, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT kind, state, count(*) FROM river_job GROUP BY kind, state`)
	if err != nil {
		return nil, fmt.Errorf("job counts: %w", err)
	}
	defer rows.Close()
	counts := map[[2]string]int{}
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return nil, fmt.Errorf("job counts: %w", err)
		}
		counts[[2]string{kind, state}] = n
	}
	return counts, rows.Err()
}

// EnqueueRenderTx inserts one render job per image inside tx.
func (q *Queue) EnqueueRenderTx(ctx context.Context, tx *sql.Tx, imageIDs []int64) error {
	params := make([]river.InsertManyParams, len(imageIDs))
	for i, id := range imageIDs {
		params[i] = river.InsertManyParams{Args: RenderArgs{ImageID: id}, InsertOpts: requestOpts(ctx)}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue render: %w", err)
	}
	return nil
}

// EnqueueDeleteTx inserts a job deleting keys inside tx. No keys, no job.
func (q *Queue) EnqueueDeleteTx(ctx context.Context, tx *sql.Tx, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := q.client.InsertTx(ctx, tx, DeleteArgs{Keys: keys}, requestOpts(ctx)); err != nil {
		return fmt.Errorf("enqueue delete: %w", err)
	}
	return nil
}

// Migrate applies River's own migrations to the database.
func Migrate(ctx context.Context, db *sql.DB, dialect string) (int, error) {
	m, err := rivermigrate.New(driver(db, dialect), nil)
	if err != nil {
		return 0, fmt.Errorf("river migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("river migrate: %w", err)
	}
	return len(res.Versions), nil
}

// EnqueueReprocess inserts render jobs outside any store transaction (they
// change no row by themselves), tagged so that Progress can follow them.
// A job for an image that already has one waiting is skipped: the waiting
// one renders the image anyway. It returns how many were inserted and how
// many skipped.
func (q *Queue) EnqueueReprocess(ctx context.Context, args []RenderArgs, tag string) (inserted, skipped int, err error) {
	if len(args) == 0 {
		return 0, 0, nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a, InsertOpts: &river.InsertOpts{
			Tags: []string{tag},
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
			}},
		}}
	}
	res, err := q.client.InsertMany(ctx, params)
	if err != nil {
		return 0, 0, fmt.Errorf("enqueue reprocess: %w", err)
	}
	for _, r := range res {
		if r.UniqueSkippedAsDuplicate {
			skipped++
		} else {
			inserted++
		}
	}
	return inserted, skipped, nil
}

// JobCounts counts jobs by how far they got.
type JobCounts struct {
	Done     int // completed
	Failed   int // cancelled or discarded: they will not run again
	Retrying int // failed an attempt and wait to be retried later
	Waiting  int // not run yet, or running now
}

// Progress counts the jobs carrying tag.
func (q *Queue) Progress(ctx context.Context, tag string) (JobCounts, error) {
	var c JobCounts
	params := river.NewJobListParams().TagsAll(tag).First(1000)
	for {
		res, err := q.client.JobList(ctx, params)
		if err != nil {
			return c, fmt.Errorf("job progress: %w", err)
		}
		for _, j := range res.Jobs {
			switch j.State {
			case rivertype.JobStateCompleted:
				c.Done++
			case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
				c.Failed++
			case rivertype.JobStateRetryable:
				c.Retrying++
			default:
				c.Waiting++
			}
		}
		if len(res.Jobs) < 1000 {
			return c, nil
		}
		params = params.After(res.LastCursor)
	}
}
