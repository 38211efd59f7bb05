package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
)

type keyLister interface {
	EachReferencedKey(ctx context.Context, fn func(key string) error) error
}

type fileLister interface {
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
	Delete(ctx context.Context, key string) error
}

// SweepReport is what a sweep found and did.
type SweepReport struct {
	Files      int      // files in storage under vitrine's prefix
	Referenced int      // of which rows refer to
	Young      int      // unreferenced but younger than the grace period: kept
	Deleted    []string // unreferenced, old enough: deleted (or to delete, in a dry run)
	Missing    []string // keys rows refer to whose file is not in storage
}

// Sweep deletes stored files that no row refers to and that are older
// than grace, and reports rows whose files are missing. A crash between
// storing an upload and committing its row, or a failed deletion, leaves
// such files; nothing else does. It is safe on a live system: a file is
// listed before the rows are read, so a row committed in between refers
// to a file at most a few seconds old, which grace keeps. Files that do
// not look like vitrine's (under "products/") are never touched. With
// dryRun, nothing is deleted.
func Sweep(ctx context.Context, rows keyLister, files fileLister, grace time.Duration, dryRun bool) (SweepReport, error) {
	var r SweepReport
	now := time.Now()
	listed := map[string]time.Time{}
	err := files.List(ctx, func(key string, modified time.Time) error {
		if strings.HasPrefix(key, "products/") {
			listed[key] = modified
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("sweep: %w", err)
	}
	r.Files = len(listed)
	err = rows.EachReferencedKey(ctx, func(key string) error {
		if _, ok := listed[key]; ok {
			r.Referenced++
			delete(listed, key)
			return nil
		}
		r.Missing = append(r.Missing, key)
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("sweep: %w", err)
	}
	var errs []error
	for key, modified := range listed {
		if now.Sub(modified) < grace {
			r.Young++
			continue
		}
		if !dryRun {
			if err := files.Delete(ctx, key); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
				continue
			}
		}
		r.Deleted = append(r.Deleted, key)
	}
	return r, errors.Join(errs...)
}

// SweepArgs asks for a storage sweep; the periodic job inserts it.
type SweepArgs struct{}

// Kind names the job kind in River's table.
func (SweepArgs) Kind() string { return "sweep_storage" }

// SweepWorker runs Sweep on a schedule and logs what it found.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	rows  keyLister
	files fileLister
	grace time.Duration
	log   *slog.Logger
	rec   recorder
}

// Work sweeps once. Missing files are logged as errors: a row pointing to
// a missing file is a bug or a storage failure someone must look at.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	r, err := Sweep(ctx, w.rows, w.files, w.grace, false)
	w.rec.Swept(len(r.Deleted), len(r.Missing))
	w.log.Info("storage sweep", "files", r.Files, "referenced", r.Referenced, "young", r.Young,
		"deleted", len(r.Deleted), "missing", len(r.Missing))
	for _, key := range r.Missing {
		w.log.Error("storage sweep: a row refers to a missing file", "key", key)
	}
	return err
}
