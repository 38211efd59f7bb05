// Package sqldbtest gives tests a real, migrated, empty store. It is
// imported only by tests.
package sqldbtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/sqldb"
)

// Open returns a migrated, empty SQLite database in t.TempDir(), with
// River's tables, and a store over it whose Enqueuer is a real jobs.Queue.
// Both are closed when the test ends.
func Open(t testing.TB) (*sqldb.Pool, *sqldb.DB) {
	t.Helper()
	ctx := context.Background()
	pool, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "vitrine.sqlite"))
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	if _, err := sqldb.Migrate(ctx, pool); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := jobs.Migrate(ctx, pool.Write); err != nil {
		t.Fatalf("migrate river: %v", err)
	}
	queue, err := jobs.NewQueue(pool.Write, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("job queue: %v", err)
	}
	return pool, sqldb.New(pool, queue)
}

// Jobs returns the args JSON of every job of this kind ("render_image",
// "delete_files"), oldest first, so a test can assert what a store call
// enqueued.
func Jobs(t testing.TB, pool *sqldb.Pool, kind string) [][]byte {
	t.Helper()
	// River's SQLite driver stores args as JSONB; json() turns them back
	// into text.
	rows, err := pool.Read.QueryContext(context.Background(), `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		t.Fatalf("list %s jobs: %v", kind, err)
	}
	defer rows.Close()
	var args [][]byte
	for rows.Next() {
		var a []byte
		if err := rows.Scan(&a); err != nil {
			t.Fatalf("list %s jobs: %v", kind, err)
		}
		args = append(args, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list %s jobs: %v", kind, err)
	}
	return args
}
