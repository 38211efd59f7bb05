package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL dialect of a Pool.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Pool holds the database handles of one database.
type Pool struct {
	// Write runs every transaction and every write. On SQLite it has one
	// connection: SQLite allows one writer, and River's SQLite driver needs
	// a single connection to avoid SQLITE_BUSY.
	Write *sql.DB
	// Read serves plain reads. On SQLite it is a separate read-only pool,
	// so reads proceed in WAL mode while a write is in progress.
	Read    *sql.DB
	Dialect Dialect
}

// Options size and bound a pool.
type Options struct {
	// MaxConns is the PostgreSQL pool size (every node has its own), and
	// the number of SQLite read connections. 0 means 10.
	MaxConns int
	// StatementTimeout makes PostgreSQL cancel any statement running
	// longer, so a stuck query cannot hold locks and connections for ever.
	// 0 leaves the server's setting.
	StatementTimeout time.Duration
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn: a postgres:// URL, or "sqlite:PATH"
// (or a plain path) for SQLite. It checks the connection before returning.
func Open(ctx context.Context, dsn string, o Options) (*Pool, error) {
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, o)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		return nil, errors.New("open database: empty SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	// The write pool must be first to touch the file: it creates it and
	// switches it to WAL, which the read-only pool cannot do.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.MaxConns)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &Pool{Write: w, Read: r, Dialect: SQLite}, nil
}

// openPostgres opens a pgx connection pool behind database/sql, so that
// the same store code and River's database/sql driver share one *sql.Tx
// type. Reads and writes share the pool.
func openPostgres(ctx context.Context, dsn string, o Options) (*Pool, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "vitrine"
	}
	if o.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	// Recycle connections now and then, so a failover or a rebalanced
	// pooler in front of PostgreSQL is picked up.
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return &Pool{Write: db, Read: db, Dialect: Postgres}, nil
}

// sqliteDSN builds the modernc.org/sqlite DSN: WAL for concurrent readers,
// foreign keys on (SQLite's default is off), a busy timeout so another
// process (the token CLI) waits instead of failing, IMMEDIATE transactions
// so a writer takes the lock at BEGIN rather than failing on upgrade, and
// synchronous=FULL so a committed row survives a power cut along with the
// file it points to.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_txlock", "immediate")
	}
	// The path is a URI path here: escape it, or a '#', '?' or '%' in a
	// directory name would open another file.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes both handles.
func (p *Pool) Close() error {
	err := p.Write.Close()
	if p.Read != p.Write {
		err = errors.Join(err, p.Read.Close())
	}
	return err
}

// rebind turns the ? placeholders of a query into the dialect's own.
func (p *Pool) rebind(query string) string {
	if p.Dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
