// Package blobtest is the one test suite every file store passes, so that
// the local directory and S3 cannot drift apart. It is imported only by
// tests.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
)

// Store is a file store under test: *blob.Local or *blob.S3.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	URL(key string) string
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
	Ping(ctx context.Context) error
}

// Exercise runs the suite against stores made by open, each empty.
func Exercise(t *testing.T, open func(t *testing.T) Store) {
	t.Run("put then open", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		key := vitrine.OriginalKey(time.Now(), vitrine.JPEG)
		data := randomBytes(t, 100_000)
		if err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
		}
		if u := s.URL(key); !strings.Contains(u, key) {
			t.Fatalf("URL(%q) = %q, want it to name the key", key, u)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("large file streams", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		key := vitrine.OriginalKey(time.Now(), vitrine.PNG)
		// Larger than one multipart part (16 MiB), from a reader that does
		// not know its size.
		data := randomBytes(t, 20<<20)
		if err := s.Put(ctx, key, io.MultiReader(bytes.NewReader(data[:7]), bytes.NewReader(data[7:]))); err != nil {
			t.Fatal(err)
		}
		if got := read(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("got %d bytes back, want the %d put", len(got), len(data))
		}
	})
	t.Run("missing and deleted", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		key := vitrine.OriginalKey(time.Now(), vitrine.WebP)
		if _, err := s.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open of a missing key: got %v, want fs.ErrNotExist", err)
		}
		if err := s.Put(ctx, key, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		for range 2 { // deleting twice is fine
			if err := s.Delete(ctx, key); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Delete: %v", err)
			}
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open after Delete: got %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("invalid keys", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		for _, key := range []string{"../x.jpg", "products/../../x.jpg", "/products/x.jpg", "products/x.txt", "other/x.jpg", ""} {
			if err := s.Put(ctx, key, strings.NewReader("x")); err == nil {
				t.Errorf("Put(%q): got nil, want an error", key)
			}
		}
	})
	t.Run("list", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		var want []string
		for _, f := range []vitrine.Format{vitrine.JPEG, vitrine.PNG, vitrine.WebP} {
			key := vitrine.OriginalKey(time.Now(), f)
			if err := s.Put(ctx, key, strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
			want = append(want, key)
		}
		var got []string
		err := s.List(ctx, func(key string, modified time.Time) error {
			if d := time.Since(modified); d < -time.Minute || d > time.Minute {
				t.Errorf("%s: modified %v, want about now", key, modified)
			}
			got = append(got, key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("List: got %v, want %v", got, want)
		}
	})
}

func read(t *testing.T, s Store, key string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}
