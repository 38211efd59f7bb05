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

// Open opens the database named by dsn: "sqlite:PATH" (or a plain path)
// for SQLite. It checks the connection before returning.
func Open(ctx context.Context, dsn string) (*Pool, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil, errors.New("open database: PostgreSQL is not supported yet")
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
	r.SetMaxOpenConns(4)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &Pool{Write: w, Read: r, Dialect: SQLite}, nil
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
