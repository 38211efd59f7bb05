package sqldb

import "time"

// SetNowFunc replaces the store's clock. It exists only in tests (this file
// is compiled with the external sqldb_test package), so tests can pin times.
func (d *DB) SetNowFunc(f func() time.Time) { d.nowFunc = f }

// Rebind turns a test's ? placeholders into the pool's dialect.
func (p *Pool) Rebind(query string) string { return p.rebind(query) }
