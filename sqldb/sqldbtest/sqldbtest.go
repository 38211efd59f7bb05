// Package sqldbtest gives tests a real, migrated, empty store: SQLite by
// default, PostgreSQL when VITRINE_TEST_POSTGRES_URL is set, so that one
// suite runs against both. It is imported only by tests.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the schema admin

	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/sqldb"
)

// PostgresEnv names the variable holding the PostgreSQL URL tests use.
const PostgresEnv = "VITRINE_TEST_POSTGRES_URL"

// DSN returns the data source of a new, empty database for one test: a
// SQLite file in t.TempDir(), or, when VITRINE_TEST_POSTGRES_URL is set, a
// schema of its own in that database (dropped when the test ends), so
// tests in parallel never see each other's rows.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		return "sqlite:" + filepath.Join(t.TempDir(), "vitrine.sqlite")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "vt_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres (%s): %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated, empty database (see DSN), with River's tables,
// and a store over it whose Enqueuer is a real jobs.Queue. Both are closed
// when the test ends.
func Open(t testing.TB) (*sqldb.Pool, *sqldb.DB) {
	t.Helper()
	ctx := context.Background()
	pool, err := sqldb.Open(ctx, DSN(t), sqldb.Options{MaxConns: 4})
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Errorf("close database: %v", err)
		}
	})
	dialect := string(pool.Dialect)
	if _, err := sqldb.Migrate(ctx, pool, func(ctx context.Context) error {
		_, err := jobs.Migrate(ctx, pool.Write, dialect)
		return err
	}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	queue, err := jobs.NewQueue(pool.Write, dialect, slog.New(slog.DiscardHandler))
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
	// River stores args as JSONB in both dialects; turn them back into text.
	query := `SELECT json(args) FROM river_job WHERE kind = ? ORDER BY id`
	if pool.Dialect == sqldb.Postgres {
		query = `SELECT args::text FROM river_job WHERE kind = $1 ORDER BY id`
	}
	rows, err := pool.Read.QueryContext(context.Background(), query, kind)
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
