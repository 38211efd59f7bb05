package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Queue names. Rendering has its own queue so that its concurrency can be
// bounded without holding up file deletions.
const (
	QueueRender  = "render"
	QueueDefault = river.QueueDefault
)

// RenderArgs asks for every configured rendition of one gallery image.
type RenderArgs struct {
	ImageID int64 `json:"image_id"`
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

// Queue inserts jobs. It is an insert-only River client: it works nothing.
type Queue struct {
	client *river.Client[*sql.Tx]
}

// NewQueue returns a Queue over the database's write pool.
func NewQueue(db *sql.DB, log *slog.Logger) (*Queue, error) {
	client, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: client}, nil
}

// EnqueueRenderTx inserts one render job per image inside tx.
func (q *Queue) EnqueueRenderTx(ctx context.Context, tx *sql.Tx, imageIDs []int64) error {
	params := make([]river.InsertManyParams, len(imageIDs))
	for i, id := range imageIDs {
		params[i] = river.InsertManyParams{Args: RenderArgs{ImageID: id}}
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
	if _, err := q.client.InsertTx(ctx, tx, DeleteArgs{Keys: keys}, nil); err != nil {
		return fmt.Errorf("enqueue delete: %w", err)
	}
	return nil
}

// Migrate applies River's own migrations to the database.
func Migrate(ctx context.Context, db *sql.DB) (int, error) {
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return 0, fmt.Errorf("river migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("river migrate: %w", err)
	}
	return len(res.Versions), nil
}
