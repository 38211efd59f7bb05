package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vitrine/vitrine"
)

// Enqueuer inserts jobs inside a store transaction, so a job exists if and
// only if the rows it concerns were committed. *jobs.Queue satisfies it;
// sqldb never imports River.
type Enqueuer interface {
	EnqueueRenderTx(ctx context.Context, tx *sql.Tx, imageIDs []int64) error
	EnqueueDeleteTx(ctx context.Context, tx *sql.Tx, keys []string) error
}

// DB is the store. It is safe for concurrent use.
type DB struct {
	pool    *Pool
	enqueue Enqueuer
	// nowFunc is the clock; tests may replace it.
	nowFunc func() time.Time
}

// New returns a store over an open, migrated pool.
func New(pool *Pool, enqueue Enqueuer) *DB {
	return &DB{pool: pool, enqueue: enqueue, nowFunc: time.Now}
}

// now returns the current time in UTC at microsecond precision, the
// precision both dialects store and the API prints.
func (d *DB) now() time.Time {
	return d.nowFunc().UTC().Truncate(time.Microsecond)
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.pool.Read.PingContext(ctx)
}

// txAttempts bounds how often a transaction is tried when PostgreSQL
// aborts it for a deadlock or a serialization failure.
const txAttempts = 4

// inTx runs fn in a write transaction and commits it if fn succeeds. A
// transaction PostgreSQL aborted for a deadlock or a serialization failure
// is run again, after a short randomized wait: such aborts are expected
// under contention and say nothing about the request. fn must therefore
// have no effect outside tx beyond setting its results.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.tryTx(ctx, fn)
		if err == nil || attempt == txAttempts || !retryable(err) {
			return err
		}
		wait := time.Duration(attempt*attempt) * 5 * time.Millisecond
		wait += time.Duration(rand.Int64N(int64(wait)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (d *DB) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.pool.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// retryable reports whether PostgreSQL aborted a transaction for a
// serialization failure (40001) or a deadlock (40P01).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// querier is what both *sql.DB and *sql.Tx offer; read helpers take one so
// they serve plain reads and reads inside a transaction alike.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// q rebinds a query for the pool's dialect.
func (d *DB) q(query string) string { return d.pool.rebind(query) }

// forUpdate is the row-lock suffix of a SELECT. SQLite has no row locks and
// needs none: its write transactions are serialized.
func (d *DB) forUpdate() string {
	if d.pool.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// notFound turns sql.ErrNoRows into a vitrine NotFound error and wraps
// any other error with what; nil stays nil.
func notFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &vitrine.Error{Kind: vitrine.NotFound, Message: "Not found.", Err: fmt.Errorf("%s: %w", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isUnique reports whether err is a unique-constraint violation on a
// constraint whose text mentions column.
func isUnique(err error, column string) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	// SQLite: "UNIQUE constraint failed: products.slug (2067)".
	// PostgreSQL: `duplicate key value violates unique constraint "products_slug_key"`.
	return (strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "duplicate key value")) &&
		strings.Contains(msg, column)
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
