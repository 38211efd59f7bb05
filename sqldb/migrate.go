package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

// migrationLock is the PostgreSQL advisory lock key that serializes
// migrations between nodes ("vitrine" in ASCII).
const migrationLock = 0x76697472696e65

// Migrate applies every embedded migration of the pool's dialect that the
// database does not have yet, each in its own transaction, then runs
// after (River's migrations), and returns the versions it applied.
// Running it twice, or from two nodes at once, applies each migration
// once: on PostgreSQL the whole run holds an advisory lock, and on SQLite
// each version check shares its write transaction with its migration.
func Migrate(ctx context.Context, p *Pool, after func(context.Context) error) ([]int, error) {
	if p.Dialect == Postgres {
		conn, err := p.Write.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		// The lock belongs to this session; it goes when the connection
		// does, even if the unlock below fails.
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}
	applied, err := migrate(ctx, p)
	if err != nil {
		return applied, err
	}
	if after != nil {
		if err := after(ctx); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

func migrate(ctx context.Context, p *Pool) ([]int, error) {
	if _, err := p.Write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS vitrine_migrations (
		version INTEGER PRIMARY KEY,
		applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	dir := path.Join("migrations", string(p.Dialect))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var applied []int
	for _, e := range entries {
		version, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("migrate: file %s does not start with a version number", e.Name())
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return applied, fmt.Errorf("migrate: %w", err)
		}
		ok, err := applyMigration(ctx, p, version, string(body))
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", e.Name(), err)
		}
		if ok {
			applied = append(applied, version)
		}
	}
	return applied, nil
}

func applyMigration(ctx context.Context, p *Pool, version int, body string) (bool, error) {
	tx, err := p.Write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, p.rebind(`SELECT count(*) FROM vitrine_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, p.rebind(`INSERT INTO vitrine_migrations (version) VALUES (?)`), version); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
