// Package jobs runs vitrine's background work on River: rendering an
// image's renditions and deleting files that committed changes no longer
// reference. Queue inserts jobs inside a store transaction (it satisfies
// sqldb.Enqueuer); Runner works them. Jobs are idempotent: running one twice
// gives the same result, since River guarantees at-least-once execution.
package jobs
