package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

type prober interface {
	// Probe reads an image file's header only.
	Probe(ctx context.Context, path string) (vitrine.ImageInfo, error)
	// Verify decodes the file at reduced scale to prove it is whole.
	Verify(ctx context.Context, path string, info vitrine.ImageInfo) error
}

type blobStore interface {
	Put(ctx context.Context, key string, r io.Reader) error
	Delete(ctx context.Context, key string) error
	URL(key string) string
}

// uploader validates received files and stores the good ones.
type uploader struct {
	log     *slog.Logger
	probe   prober
	blobs   blobStore
	rec     recorder
	nowFunc func() time.Time
	checks  chan struct{} // a slot per decode allowed at once; nil: no limit
}

func newUploader(log *slog.Logger, probe prober, blobs blobStore, rec recorder, maxChecks int) *uploader {
	u := &uploader{log: log, probe: probe, blobs: blobs, rec: rec, nowFunc: time.Now}
	if maxChecks > 0 {
		u.checks = make(chan struct{}, maxChecks)
	}
	return u
}

// store validates one received file against lim, cheapest checks first and
// nothing decoded before the header passed, then stores it under a new key.
// A refused file is an Invalid error with the message for the client; the
// caller owns the returned file and must discard it if it is not committed.
// Every outcome is counted, refusals by reason.
func (u *uploader) store(ctx context.Context, f *receivedFile, lim vitrine.UploadLimits) (*vitrine.File, error) {
	file, reason, err := u.check(ctx, f, lim)
	if reason != "" {
		u.rec.Upload(false, reason)
	} else if err == nil {
		u.rec.Upload(true, "")
	}
	return file, err
}

// check does store's work and names the reason of a refusal.
func (u *uploader) check(ctx context.Context, f *receivedFile, lim vitrine.UploadLimits) (*vitrine.File, string, error) {
	if err := lim.CheckName(f.filename); err != nil {
		return nil, "extension", err
	}
	if f.tooLarge {
		return nil, "size", lim.CheckSize(lim.MaxBytes + 1)
	}
	if err := lim.CheckSize(f.size); err != nil {
		return nil, "size", err
	}
	info, err := u.probe.Probe(ctx, f.path)
	if err != nil {
		return nil, invalidReason(err, "corrupt"), err
	}
	if err := lim.Check(info); err != nil {
		return nil, "format or dimensions", err
	}
	if err := u.verify(ctx, f.path, info); err != nil {
		return nil, invalidReason(err, "corrupt"), err
	}
	key := vitrine.OriginalKey(u.nowFunc(), info.Format)
	n, err := u.putClean(ctx, key, f.path, info.Format)
	if err != nil {
		return nil, invalidReason(err, "corrupt"), err
	}
	return &vitrine.File{Key: key, Format: info.Format, Width: info.Width, Height: info.Height, Bytes: n}, "", nil
}

// verify decodes the file when a check slot is free, and records the wait.
// The wait is bounded by the upload gate: at most MaxUploads requests wait
// here at once.
func (u *uploader) verify(ctx context.Context, path string, info vitrine.ImageInfo) error {
	if u.checks != nil {
		start := u.nowFunc()
		select {
		case u.checks <- struct{}{}:
			defer func() { <-u.checks }()
		case <-ctx.Done():
			return ctx.Err()
		}
		u.rec.ObserveCheckWait(u.nowFunc().Sub(start))
	}
	return u.probe.Verify(ctx, path, info)
}

// invalidReason is reason when err refuses the file, "" when it is a
// failure of the server (not the client's doing).
func invalidReason(err error, reason string) string {
	if _, ok := fileError(err); ok {
		return reason
	}
	return ""
}

// putClean stores the file at path under key without its location and
// camera metadata (the served original must not reveal where a photo was
// taken), losslessly, streaming through a pipe. It returns the stored size.
func (u *uploader) putClean(ctx context.Context, key, path string, format vitrine.Format) (int64, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open upload: %w", err)
	}
	defer file.Close()
	pr, pw := io.Pipe()
	counted := &countingWriter{w: pw}
	go func() {
		_, err := metadata.Clean(counted, file, format)
		pw.CloseWithError(err)
	}()
	err = u.blobs.Put(ctx, key, pr)
	pr.CloseWithError(err) // unblocks the cleaner if Put stopped reading
	if err != nil {
		return 0, fmt.Errorf("store upload: %w", err)
	}
	return counted.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// discard deletes stored files that no committed row references: uploads
// that were refused or rolled back, and files a committed change dropped
// (whose delete job will find them gone). A file that cannot be deleted now
// is left to that job or to the storage sweep; nothing references it.
func (u *uploader) discard(keys ...string) {
	// The request may be over (its context cancelled); the files must go anyway.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range keys {
		if err := u.blobs.Delete(ctx, k); err != nil && !errors.Is(err, fs.ErrNotExist) {
			u.log.Warn("discard stored upload", "key", k, "err", err)
		}
	}
}

// fileError says whether err is a refusal of the file (shown to the client
// under the field) rather than a failure of the server.
func fileError(err error) (string, bool) {
	var e *vitrine.Error
	if errors.As(err, &e) && e.Kind == vitrine.Invalid && e.Message != "" {
		return e.Message, true
	}
	return "", false
}
