package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dsn     func(dir string) string
		wantErr bool
	}{
		{"sqlite prefix", func(dir string) string { return "sqlite:" + filepath.Join(dir, "db.sqlite") }, false},
		{"plain path", func(dir string) string { return filepath.Join(dir, "db.sqlite") }, false},
		{"missing parent dirs", func(dir string) string { return "sqlite:" + filepath.Join(dir, "a", "b", "db.sqlite") }, false},
		{"empty path", func(string) string { return "sqlite:" }, true},
		{"postgres", func(string) string { return "postgres://localhost/vitrine" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, err := sqldb.Open(context.Background(), tt.dsn(t.TempDir()), sqldb.Options{})
			if tt.wantErr {
				if err == nil {
					pool.Close()
					t.Fatalf("got nil error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if err := pool.Close(); err != nil {
				t.Errorf("close: got %v, want nil", err)
			}
		})
	}
}

// TestOpenPathWithURICharacters opens a database in a directory whose name
// holds characters that mean something in a URI.
func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, dir string }{
		// The names keep these characters out of t.TempDir(), so a wrong
		// path still lands inside it.
		{"hash", "data#1"},
		{"percent", "100%25"},
		{"question mark", "what?"},
		{"space", "a b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), tt.dir, "db.sqlite")
			pool, err := sqldb.Open(context.Background(), "sqlite:"+path, sqldb.Options{})
			if err != nil {
				t.Fatalf("open: got %v, want nil", err)
			}
			defer pool.Close()
			if _, err := sqldb.Migrate(context.Background(), pool, nil); err != nil {
				t.Fatalf("migrate: got %v, want nil", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file: got %v, want it at %s", err, path)
			}
		})
	}
}

func TestOpenPragmas(t *testing.T) {
	t.Parallel()
	pool, db := sqldbtest.Open(t)
	if pool.Dialect != sqldb.SQLite {
		t.Skip("SQLite's pragmas; PostgreSQL has none")
	}
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Errorf("ping: got %v, want nil", err)
	}
	var mode string
	if err := pool.Write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q, %v, want wal", mode, err)
	}
	var fk int
	if err := pool.Write.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys: got %d, %v, want 1", fk, err)
	}
	if stats := pool.Write.Stats(); stats.MaxOpenConnections != 1 {
		t.Errorf("write pool connections: got %d, want 1", stats.MaxOpenConnections)
	}
	if _, err := pool.Read.ExecContext(ctx, `DELETE FROM products`); err == nil {
		t.Errorf("write through the read pool: got nil error, want query_only to refuse it")
	}
}
