package jobs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
)

// TestSweep stores files the way an upload does and then "crashes" before
// the row is committed (no row is ever written for them), next to files
// rows do refer to, and checks what a sweep keeps, deletes and reports.
func TestSweep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	img := e.addImage(t, pngOf(t, 300, 200))                 // referenced by its row
	crashed := vitrine.OriginalKey(time.Now(), vitrine.JPEG) // stored, row never committed
	if err := e.blobs.Put(ctx, crashed, strings.NewReader("orphan")); err != nil {
		t.Fatal(err)
	}
	young := vitrine.OriginalKey(time.Now(), vitrine.PNG) // an upload still in flight
	if err := e.blobs.Put(ctx, young, strings.NewReader("in flight")); err != nil {
		t.Fatal(err)
	}
	// Age the crashed file past the grace period; the in-flight one is new.
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(e.blobs.Dir(), crashed), old, old); err != nil {
		t.Fatal(err)
	}
	// A file that is not vitrine's is never touched, however old.
	foreign := filepath.Join(e.blobs.Dir(), "README.txt")
	if err := os.WriteFile(foreign, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(foreign, old, old)
	// A row whose file is gone is reported.
	lost := e.addImage(t, pngOf(t, 10, 10))
	os.Chtimes(filepath.Join(e.blobs.Dir(), img.Key), old, old)
	if err := e.blobs.Delete(ctx, lost.Key); err != nil {
		t.Fatal(err)
	}

	dry, err := Sweep(ctx, e.db, e.blobs, time.Hour, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dry.Deleted, []string{crashed}) || dry.Young != 1 || !slices.Equal(dry.Missing, []string{lost.Key}) {
		t.Fatalf("dry run: got %+v, want %s to delete, 1 young, %s missing", dry, crashed, lost.Key)
	}
	if _, err := e.blobs.Open(ctx, crashed); err != nil {
		t.Fatalf("a dry run deleted a file: %v", err)
	}

	r, err := Sweep(ctx, e.db, e.blobs, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Deleted, []string{crashed}) || r.Referenced != 1 {
		t.Fatalf("got %+v, want %s deleted and the referenced original kept", r, crashed)
	}
	if _, err := e.blobs.Open(ctx, crashed); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the orphan is still there: %v", err)
	}
	for _, key := range []string{img.Key, young} {
		if _, err := e.blobs.Open(ctx, key); err != nil {
			t.Fatalf("%s was deleted: %v", key, err)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("a file that is not vitrine's was deleted: %v", err)
	}
	// With no grace, the in-flight one goes too: that is what --grace is for.
	r, err = Sweep(ctx, e.db, e.blobs, 0, false)
	if err != nil || !slices.Equal(r.Deleted, []string{young}) {
		t.Fatalf("grace 0: got %+v, %v, want %s deleted", r, err, young)
	}
}
