// Package sqldb stores products, gallery images, renditions and API tokens
// behind database/sql. One store serves both dialects: SQLite (the pure-Go
// modernc.org/sqlite driver, WAL, the embedded default) and, later,
// PostgreSQL. Every public method that writes runs one transaction; jobs
// that must follow a write (render an image, delete replaced files) are
// enqueued inside that same transaction through an Enqueuer, so a rollback
// never leaves a job behind and a commit never loses one.
//
// Errors are translated here: no row becomes a vitrine NotFound, a unique
// slug violation a vitrine Conflict with a field message.
package sqldb
