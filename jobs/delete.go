package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/riverqueue/river"
)

type deleter interface {
	Delete(ctx context.Context, key string) error
}

// DeleteWorker deletes files that a committed change stopped referencing.
type DeleteWorker struct {
	river.WorkerDefaults[DeleteArgs]
	blobs deleter
}

// Work deletes every key; a missing file counts as deleted, so a retried
// job finishes what the first attempt started.
func (w *DeleteWorker) Work(ctx context.Context, job *river.Job[DeleteArgs]) error {
	var errs []error
	for _, key := range job.Args.Keys {
		if err := w.blobs.Delete(ctx, key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}
