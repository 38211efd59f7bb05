// Package blob stores files (originals and renditions) under keys that
// vitrine.OriginalKey and vitrine.RenditionKey build. Local keeps them in a
// directory on disk; an S3 store with the same methods comes later. Keys
// are never reused, so a stored file never changes.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
)

// ErrNotFound is returned by Open and Delete for a key that holds no file.
// It wraps fs.ErrNotExist, so consumers that must not import this package
// test for that instead.
var ErrNotFound = fmt.Errorf("blob: %w", fs.ErrNotExist)

// Local stores files in a directory.
type Local struct {
	root     *os.Root // confines every file operation to the directory
	dir      string
	mediaURL string
}

// NewLocal opens (creating it if needed) the directory dir as a store.
// Files are served by vitrine under /media/, or, when mediaURL is set
// (a web server or CDN in front of the directory), under mediaURL.
func NewLocal(dir, mediaURL string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	return &Local{root: root, dir: dir, mediaURL: strings.TrimSuffix(mediaURL, "/")}, nil
}

// Dir returns the directory the store writes to.
func (l *Local) Dir() string { return l.dir }

// Put writes the file at key from r. The file appears whole or not at all:
// it is written to a temporary name, synced and renamed, and the directory
// is synced, so a committed row never points to a half-written or (after a
// power cut) missing file.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if !vitrine.ValidKey(key) {
		return fmt.Errorf("put %q: invalid key", key)
	}
	dir := filepath.Dir(filepath.FromSlash(key))
	if err := l.root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	tmp := filepath.FromSlash(key) + ".tmp-" + randomSuffix()
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, contextReader{ctx, r}); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := l.root.Rename(tmp, filepath.FromSlash(key)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return l.syncDir(dir)
}

func (l *Local) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Open opens the file at key for reading. ErrNotFound if there is none.
func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !vitrine.ValidKey(key) {
		return nil, ErrNotFound
	}
	f, err := l.root.Open(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return f, nil
}

// Delete removes the file at key, or a temporary file a crash left behind
// during Put (as List reports them). ErrNotFound if there is none, so
// callers that only want it gone can ignore that error: deleting is
// idempotent.
func (l *Local) Delete(ctx context.Context, key string) error {
	if !vitrine.ValidKey(key) && !isTempKey(key) {
		return ErrNotFound
	}
	err := l.root.Remove(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// FS returns a read-only view of the stored files, keyed by key, for
// serving them over HTTP.
func (l *Local) FS() fs.FS { return l.root.FS() }

// URL returns the path under which vitrine serves the file at key (the
// HTTP layer makes it absolute), or its URL under mediaURL.
func (l *Local) URL(key string) string {
	if l.mediaURL != "" {
		return l.mediaURL + "/" + key
	}
	return "/media/" + key
}

// Ping checks that the directory is there and readable.
func (l *Local) Ping(ctx context.Context) error {
	if _, err := l.root.Stat("."); err != nil {
		return fmt.Errorf("media directory: %w", err)
	}
	return nil
}

// List calls fn for every stored file, including temporary files that a
// crash left behind during Put, with its key and modification time.
func (l *Local) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	return fs.WalkDir(l.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, info.ModTime())
	})
}

// isTempKey reports whether key names one of Put's temporary files.
func isTempKey(key string) bool {
	base, suffix, ok := strings.Cut(key, ".tmp-")
	return ok && vitrine.ValidKey(base) && len(suffix) == 16 && strings.Trim(suffix, "0123456789abcdef") == ""
}

// contextReader stops a copy when its context ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
