package sqldb_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

// clock is a settable time source for DB.SetNowFunc.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// start is the test clock's first reading: not UTC and with nanoseconds,
// so tests see the store convert to UTC and truncate to microseconds.
var start = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))

// stored is how the store records t: UTC, microsecond precision.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// open returns an empty store whose clock the test controls.
func open(t *testing.T) (*sqldb.Pool, *sqldb.DB, *clock) {
	t.Helper()
	pool, db := sqldbtest.Open(t)
	c := &clock{now: start}
	db.SetNowFunc(c.Now)
	return pool, db, c
}

// renderJobs returns the image ids of every render_image job, oldest first.
func renderJobs(t *testing.T, pool *sqldb.Pool) []int64 {
	t.Helper()
	var ids []int64
	for _, raw := range sqldbtest.Jobs(t, pool, "render_image") {
		var a jobs.RenderArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("render job args %s: %v", raw, err)
		}
		ids = append(ids, a.ImageID)
	}
	return ids
}

// deleteJobs returns the keys of every delete_files job, oldest first, each
// job's keys sorted (the store promises which keys, not their order).
func deleteJobs(t *testing.T, pool *sqldb.Pool) [][]string {
	t.Helper()
	var keys [][]string
	for _, raw := range sqldbtest.Jobs(t, pool, "delete_files") {
		var a jobs.DeleteArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("delete job args %s: %v", raw, err)
		}
		slices.Sort(a.Keys)
		keys = append(keys, a.Keys)
	}
	return keys
}

// wantDeleteJobs checks the delete_files jobs; each want's keys may be in
// any order.
func wantDeleteJobs(t *testing.T, pool *sqldb.Pool, want ...[]string) {
	t.Helper()
	for _, keys := range want {
		slices.Sort(keys)
	}
	got := deleteJobs(t, pool)
	if len(got) != len(want) || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("delete jobs: got %q, want %q", got, want)
	}
}

// wantKind checks that err is a *vitrine.Error of this kind.
func wantKind(t *testing.T, err error, kind vitrine.Kind) *vitrine.Error {
	t.Helper()
	var e *vitrine.Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Fatalf("error: got %v (kind %v), want kind %v", err, vitrine.KindOf(err), kind)
	}
	return e
}

// count runs a SELECT count(*) ... and returns the count.
func count(t *testing.T, pool *sqldb.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.Read.QueryRowContext(context.Background(), pool.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// wantTime checks that got is want, in UTC.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s: got %v in %s, want %v in UTC", what, got, got.Location(), want)
	}
}

// asJSON renders v for failure messages, following pointers.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// newKey returns a storage key no other call returns.
func newKey() string {
	return vitrine.OriginalKey(start, vitrine.JPEG)
}

// newProduct creates a product with this slug (and name) and returns it.
func newProduct(t *testing.T, db *sqldb.DB, slug string) *vitrine.Product {
	t.Helper()
	p := &vitrine.Product{Name: slug, Slug: vitrine.Slug(slug)}
	if err := db.CreateProduct(context.Background(), p); err != nil {
		t.Fatalf("create product %s: %v", slug, err)
	}
	return p
}

// newImage returns an unsaved gallery image with a fresh key.
func newImage() *vitrine.Image {
	return &vitrine.Image{Key: newKey(), Format: vitrine.JPEG, Width: 640, Height: 480, Bytes: 12345, AltText: "alt", Caption: "caption"}
}

// addImages adds n images to a product (display orders appended) and
// returns them.
func addImages(t *testing.T, db *sqldb.DB, productID int64, n int) []*vitrine.Image {
	t.Helper()
	imgs := make([]*vitrine.Image, n)
	for i := range imgs {
		imgs[i] = newImage()
	}
	added, err := db.AddImages(context.Background(), productID, imgs, true, 1000)
	if err != nil || added != n {
		t.Fatalf("add images: got %d, %v, want %d, nil", added, err, n)
	}
	return imgs
}

// ids returns the ids of imgs, in order.
func ids(imgs []*vitrine.Image) []int64 {
	out := make([]int64, len(imgs))
	for i, img := range imgs {
		out[i] = img.ID
	}
	return out
}
