package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/sync/semaphore"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/placeholder"
)

type renderStore interface {
	ImageByID(ctx context.Context, id int64) (*vitrine.Image, error)
	SaveRenditions(ctx context.Context, imageID int64, originalKey string, ri vitrine.RenderedImage) error
	FailImage(ctx context.Context, imageID int64, reason string) error
}

type blobStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Put(ctx context.Context, key string, r io.Reader) error
	Delete(ctx context.Context, key string) error
}

type renderer interface {
	Render(ctx context.Context, src []byte, specs []vitrine.Spec) (vitrine.RenderResult, error)
	// RenderMemory estimates the peak memory of rendering an original.
	RenderMemory(src []byte, width, height int) int64
}

// maxOriginalBytes bounds what a render job reads into memory; uploads are
// far smaller (5 MiB by default), so only a corrupted store could hit it.
const maxOriginalBytes = 256 << 20

// RenderWorker makes the renditions of one image, stores them and marks
// the image ready.
type RenderWorker struct {
	river.WorkerDefaults[RenderArgs]
	store  renderStore
	blobs  blobStore
	render renderer
	specs  []vitrine.Spec
	log    *slog.Logger
	rec    recorder
	// budget holds the render memory budget, in bytes; nil for none.
	budget     *semaphore.Weighted
	budgetSize int64
}

// Work renders every spec. It is idempotent: rendition keys depend only on
// the original and the spec, so a second run overwrites the same files. An
// image deleted meanwhile is not an error; the files written for it are
// removed again. An original that cannot be decoded marks the image failed
// and cancels the job (retrying cannot help); other errors are retried, and
// the last attempt marks the image failed.
func (w *RenderWorker) Work(ctx context.Context, job *river.Job[RenderArgs]) error {
	log := w.log.With("job_id", job.ID, "image_id", job.Args.ImageID, "attempt", job.Attempt)
	var meta struct {
		RequestID string `json:"request_id"`
	}
	if json.Unmarshal(job.Metadata, &meta) == nil && meta.RequestID != "" {
		log = log.With("request_id", meta.RequestID)
	}
	start := time.Now()
	defer func() {
		which := "all"
		if len(job.Args.Only) > 0 {
			which = strings.Join(job.Args.Only, ",")
		}
		w.rec.ObserveRender(which, time.Since(start))
		log.Info("rendered", "duration_ms", time.Since(start).Milliseconds())
	}()
	img, err := w.store.ImageByID(ctx, job.Args.ImageID)
	if vitrine.IsNotFound(err) {
		return nil // deleted before we got to it; its files went with it
	}
	if err != nil {
		return err
	}
	err = w.renderImage(ctx, img, job.Args)
	switch {
	case err == nil:
		return nil
	case vitrine.KindOf(err) == vitrine.Unsupported:
		return w.fail(ctx, img, "The original could not be decoded.", river.JobCancel(err))
	case job.Attempt >= job.MaxAttempts:
		return w.fail(ctx, img, "Rendering failed after several attempts.", err)
	}
	return err
}

func (w *RenderWorker) fail(ctx context.Context, img *vitrine.Image, reason string, cause error) error {
	if err := w.store.FailImage(ctx, img.ID, reason); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (w *RenderWorker) renderImage(ctx context.Context, img *vitrine.Image, args RenderArgs) error {
	specs := w.specsFor(args.Only)
	src, err := w.readOriginal(ctx, img.Key)
	if err != nil {
		return err
	}
	if w.budget != nil {
		// A render waits here until its estimated memory fits in the
		// budget beside the renders running; one larger than the whole
		// budget runs alone.
		need := min(w.render.RenderMemory(src, img.Width, img.Height), w.budgetSize)
		waited := time.Now()
		if err := w.budget.Acquire(ctx, need); err != nil {
			return fmt.Errorf("render image %d: waiting for render memory: %w", img.ID, err)
		}
		defer w.budget.Release(need)
		if d := time.Since(waited); d > time.Second {
			w.log.Debug("waited for render memory", "image_id", img.ID, "need_bytes", need, "waited_ms", d.Milliseconds())
		}
	}
	res, err := w.render.Render(ctx, src, specs)
	if err != nil {
		return fmt.Errorf("render image %d: %w", img.ID, err)
	}
	ri := vitrine.RenderedImage{DominantColor: placeholder.DominantColor(res.Preview)}
	if ri.Placeholder, err = placeholder.ThumbHash(res.Preview); err != nil {
		return fmt.Errorf("render image %d: %w", img.ID, err)
	}
	for _, out := range res.Renditions {
		r, data := storedRendition(img, src, res.Source, out)
		if err := w.blobs.Put(ctx, r.Key, bytes.NewReader(data)); err != nil {
			w.removeFiles(ctx, ri.Renditions)
			return fmt.Errorf("render image %d: %w", img.ID, err)
		}
		ri.Renditions = append(ri.Renditions, r)
	}
	err = w.store.SaveRenditions(ctx, img.ID, img.Key, ri)
	if vitrine.IsNotFound(err) {
		// The image was deleted (or replaced) while we rendered: the delete
		// job it enqueued could not know about these files, so they are ours
		// to remove.
		w.removeFiles(ctx, ri.Renditions)
		return nil
	}
	if err != nil {
		return fmt.Errorf("render image %d: %w", img.ID, err)
	}
	return nil
}

// specsFor returns the configured specs named in only, or all of them.
func (w *RenderWorker) specsFor(only []string) []vitrine.Spec {
	if len(only) == 0 {
		return w.specs
	}
	var specs []vitrine.Spec
	for _, sp := range w.specs {
		if slices.Contains(only, sp.Name) {
			specs = append(specs, sp)
		}
	}
	return specs
}

// storedRendition returns the rendition record of out and the bytes to
// store. A rendition at the original's own size that came out larger than
// the original (say a WebP of a well-compressed JPEG) is pointless: the
// original's bytes are stored in its place, under a key with the
// original's extension. JPEG renditions only take a JPEG original's place,
// since clients rely on them being opaque JPEGs, and only an upright
// original qualifies, so the rendition never depends on EXIF rotation.
func storedRendition(img *vitrine.Image, src []byte, source vitrine.ImageInfo, out vitrine.Rendered) (vitrine.Rendition, []byte) {
	data, format := out.Data, out.Spec.Format
	sameSize := out.Width == source.Width && out.Height == source.Height
	if sameSize && len(src) < len(data) && source.Orientation <= 1 && (format != vitrine.JPEG || img.Format == vitrine.JPEG) {
		data, format = src, img.Format
	}
	return vitrine.Rendition{
		Name:   out.Spec.Name,
		Spec:   out.Spec.String(),
		Key:    vitrine.RenditionKey(img.Key, out.Spec, format),
		Format: format,
		Width:  out.Width,
		Height: out.Height,
		Bytes:  int64(len(data)),
	}, data
}

func (w *RenderWorker) readOriginal(ctx context.Context, key string) ([]byte, error) {
	f, err := w.blobs.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open original %s: %w", key, err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxOriginalBytes))
	if err != nil {
		return nil, fmt.Errorf("read original %s: %w", key, err)
	}
	return src, nil
}

func (w *RenderWorker) removeFiles(ctx context.Context, rs []vitrine.Rendition) {
	for _, r := range rs {
		if err := w.blobs.Delete(ctx, r.Key); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Left for the sweep; nothing references the file.
			w.log.Warn("remove rendition", "key", r.Key, "err", err)
		}
	}
}
