package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vitrine/vitrine/blob"
)

const key = "products/2026/03/04/0f8e7a6b-1c2d-4e3f-8a9b-0c1d2e3f4a5b.jpg"

// newLocal returns a store in a fresh directory.
func newLocal(t *testing.T) *blob.Local {
	t.Helper()
	l, err := blob.NewLocal(filepath.Join(t.TempDir(), "media"), "")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// files lists every regular file under dir, as slash paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantFiles checks the regular files under dir.
func wantFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files under %s: got %q, want %q", dir, got, want)
	}
}

// read returns the contents of the file at key.
func read(t *testing.T, l *blob.Local, key string) []byte {
	t.Helper()
	rc, err := l.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): got %v, want nil", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func TestLocalPutOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"empty", key, []byte{}},
		{"small", key, []byte("\xff\xd8\xff not really a jpeg")},
		{"large", key, bytes.Repeat([]byte("0123456789abcdef"), 1<<16)}, // 1 MiB
		{"rendition key", "products/thumbnails/2026/03/04/0f8e7a6b-1c2d-4e3f-8a9b-0c1d2e3f4a5b-1a2b3c4d.webp", []byte("webp")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLocal(t)
			if err := l.Put(context.Background(), tt.key, bytes.NewReader(tt.data)); err != nil {
				t.Fatalf("Put: got %v, want nil", err)
			}
			if got := read(t, l, tt.key); !bytes.Equal(got, tt.data) {
				t.Errorf("Open: got %d bytes, want %d", len(got), len(tt.data))
			}
			got, err := fs.ReadFile(l.FS(), tt.key)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("FS: got %d bytes, %v, want %d bytes, nil", len(got), err, len(tt.data))
			}
			// Only the file itself: no temporary file is left behind.
			wantFiles(t, l.Dir(), tt.key)
		})
	}
}

// TestLocalPutReplaces checks that a second Put at a key replaces the file,
// which a repeated render job relies on.
func TestLocalPutReplaces(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	ctx := context.Background()
	for _, data := range []string{"first, longer version", "second"} {
		if err := l.Put(ctx, key, strings.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if got := string(read(t, l, key)); got != data {
			t.Errorf("got %q, want %q", got, data)
		}
	}
	wantFiles(t, l.Dir(), key)
}

func TestLocalPutInvalidKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"parent", "../x.jpg"},
		{"traversal inside", "products/../../etc/passwd.jpg"},
		{"dot segment", "products/./a.jpg"},
		{"absolute", "/abs.jpg"},
		{"absolute products", "/products/a.jpg"},
		{"not under products", "other/a.jpg"},
		{"text file", "products/a.txt"},
		{"no extension", "products/a"},
		{"upper case", "products/A.jpg"},
		{"backslash", `products\..\..\a.jpg`},
		{"empty segment", "products//a.jpg"},
		{"trailing slash", "products/a.jpg/"},
		{"NUL", "products/a\x00.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The store is a subdirectory, so a write just outside it shows.
			parent := t.TempDir()
			l, err := blob.NewLocal(filepath.Join(parent, "media"), "")
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Put(context.Background(), tt.key, strings.NewReader("data")); err == nil {
				t.Errorf("Put(%q): got nil error, want one", tt.key)
			}
			wantFiles(t, parent)
			entries, err := os.ReadDir(l.Dir())
			if err != nil || len(entries) != 0 {
				t.Errorf("store directory: got %v, %v, want it empty", entries, err)
			}
			_, err = l.Open(context.Background(), tt.key)
			if !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open(%q): got %v, want ErrNotFound", tt.key, err)
			}
		})
	}
}

// TestLocalSymlinkEscape checks that a symbolic link inside the directory
// cannot lead a Put outside it.
func TestLocalSymlinkEscape(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	l := newLocal(t)
	if err := os.Symlink(outside, filepath.Join(l.Dir(), "products")); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	if err := l.Put(context.Background(), key, strings.NewReader("data")); err == nil {
		t.Errorf("Put through a link out of the store: got nil error, want one")
	}
	wantFiles(t, outside)
}

func TestLocalNotFound(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	ctx := context.Background()
	if err := l.Put(ctx, key, strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	missing := "products/2026/03/04/11111111-1111-4111-8111-111111111111.jpg"
	tests := []struct {
		name string
		call func() error
	}{
		{"Open missing key", func() error { _, err := l.Open(ctx, missing); return err }},
		{"Open missing directory", func() error { _, err := l.Open(ctx, "products/1999/a.jpg"); return err }},
		{"Delete missing key", func() error { return l.Delete(ctx, missing) }},
		{"Delete missing directory", func() error { return l.Delete(ctx, "products/1999/a.jpg") }},
		{"Open invalid key", func() error { _, err := l.Open(ctx, "../x.jpg"); return err }},
		{"Delete invalid key", func() error { return l.Delete(ctx, "../x.jpg") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			if !errors.Is(err, blob.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("got %v, want an error that is ErrNotFound and fs.ErrNotExist", err)
			}
		})
	}
}

func TestLocalDelete(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	ctx := context.Background()
	other := "products/2026/03/04/22222222-2222-4222-8222-222222222222.png"
	for _, k := range []string{key, other} {
		if err := l.Put(ctx, k, strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: got %v, want nil", err)
	}
	if _, err := l.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after Delete: got %v, want ErrNotFound", err)
	}
	// Deleting again leaves the same state and says the file is not there.
	if err := l.Delete(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second Delete: got %v, want ErrNotFound", err)
	}
	wantFiles(t, l.Dir(), other)
	if got := string(read(t, l, other)); got != other {
		t.Errorf("other file: got %q, want %q", got, other)
	}
}

// cancelAfterRead cancels a context once it has been read from, so a
// Put sees the context end in the middle of a copy.
type cancelAfterRead struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c cancelAfterRead) Read(p []byte) (int, error) {
	n, err := c.r.Read(p[:min(len(p), 10)])
	c.cancel()
	return n, err
}

func TestLocalPutFails(t *testing.T) {
	t.Parallel()
	errBroken := errors.New("connection reset")
	tests := []struct {
		name    string
		reader  func(cancel context.CancelFunc) io.Reader
		cancel  bool // cancel the context before Put
		wantErr error
	}{
		{"reader fails midway", func(context.CancelFunc) io.Reader {
			return io.MultiReader(strings.NewReader(strings.Repeat("x", 100_000)), iotest.ErrReader(errBroken))
		}, false, errBroken},
		{"reader fails at once", func(context.CancelFunc) io.Reader { return iotest.ErrReader(errBroken) }, false, errBroken},
		{"context cancelled before", func(context.CancelFunc) io.Reader { return strings.NewReader("data") }, true, context.Canceled},
		{"context cancelled midway", func(cancel context.CancelFunc) io.Reader {
			return cancelAfterRead{strings.NewReader(strings.Repeat("x", 100)), cancel}
		}, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLocal(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			err := l.Put(ctx, key, tt.reader(cancel))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Put: got %v, want %v", err, tt.wantErr)
			}
			// No file at the key and no temporary file.
			wantFiles(t, l.Dir())
			if _, err := l.Open(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Open: got %v, want ErrNotFound", err)
			}
		})
	}
}

// TestLocalPutFailsKeepsOld checks that a failed Put leaves the file that
// was at the key whole.
func TestLocalPutFailsKeepsOld(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	if err := l.Put(context.Background(), key, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	r := io.MultiReader(strings.NewReader("new, partial"), iotest.ErrReader(errors.New("broken")))
	if err := l.Put(context.Background(), key, r); err == nil {
		t.Fatal("Put: got nil error, want one")
	}
	if got := string(read(t, l, key)); got != "old" {
		t.Errorf("got %q, want %q", got, "old")
	}
	wantFiles(t, l.Dir(), key)
}

func TestLocalFS(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	if err := l.Put(context.Background(), key, strings.NewReader("data")); err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile(l.FS(), key)
	if err != nil || string(got) != "data" {
		t.Errorf("ReadFile: got %q, %v, want %q, nil", got, err, "data")
	}
	if _, err := fs.ReadFile(l.FS(), "products/missing.jpg"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: got %v, want fs.ErrNotExist", err)
	}
	if _, err := fs.ReadFile(l.FS(), "../media/"+key); err == nil {
		t.Errorf("ReadFile outside the FS: got nil error, want one")
	}
}

func TestLocalURL(t *testing.T) {
	t.Parallel()
	l := newLocal(t)
	if got, want := l.URL(key), "/media/"+key; got != want {
		t.Errorf("URL: got %q, want %q", got, want)
	}
}

func TestNewLocal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a", "b", "media")
	l, err := blob.NewLocal(dir, "")
	if err != nil {
		t.Fatalf("NewLocal: got %v, want nil", err)
	}
	if l.Dir() != dir {
		t.Errorf("Dir: got %q, want %q", l.Dir(), dir)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("directory: got %v, want it created", err)
	}
	// A file where the directory should be is an error.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := blob.NewLocal(file, ""); err == nil {
		t.Errorf("NewLocal over a file: got nil error, want one")
	}
}
