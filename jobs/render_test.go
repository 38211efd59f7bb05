package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/sync/semaphore"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/metrics"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/vips"
)

func TestMain(m *testing.M) {
	if err := vips.Init(1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	vips.Shutdown()
	os.Exit(code)
}

// env is a real store, a real media directory and the real renderer.
type env struct {
	pool  *sqldb.Pool
	db    *sqldb.DB
	blobs *blob.Local
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	pool, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(dir, "vitrine.db"), sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	if _, err := sqldb.Migrate(ctx, pool, func(ctx context.Context) error {
		_, err := Migrate(ctx, pool.Write, "sqlite")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	queue, err := NewQueue(pool.Write, "sqlite", log)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewLocal(filepath.Join(dir, "media"), "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{pool: pool, db: sqldb.New(pool, queue), blobs: blobs, log: log}
}

func (e *env) worker(r renderer) *RenderWorker {
	return &RenderWorker{store: e.db, blobs: e.blobs, render: r, specs: vitrine.DefaultSpecs(), log: e.log, rec: metrics.New(e.log, nil)}
}

// addImage stores data as an original and adds it to a new product's gallery.
func (e *env) addImage(t *testing.T, data []byte) *vitrine.Image {
	t.Helper()
	ctx := context.Background()
	p := &vitrine.Product{Name: "p", Slug: vitrine.Slug(fmt.Sprintf("p%d", time.Now().UnixNano()))}
	if err := e.db.CreateProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	key := vitrine.OriginalKey(time.Now(), vitrine.PNG)
	if err := e.blobs.Put(ctx, key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	img := &vitrine.Image{Key: key, Format: vitrine.PNG, Width: 1, Height: 1, Bytes: int64(len(data))}
	if _, err := e.db.AddImages(ctx, p.ID, []*vitrine.Image{img}, true, 50); err != nil {
		t.Fatal(err)
	}
	return img
}

func (e *env) files(t *testing.T) []string {
	t.Helper()
	var out []string
	fs.WalkDir(e.blobs.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	slices.Sort(out)
	return out
}

func job(imageID int64, attempt int) *river.Job[RenderArgs] {
	return &river.Job[RenderArgs]{JobRow: &rivertype.JobRow{Attempt: attempt, MaxAttempts: 8}, Args: RenderArgs{ImageID: imageID}}
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderWorkerMakesRenditionsIdempotently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, pngOf(t, 1000, 500))
	w := e.worker(vips.NewRenderer())
	for attempt := 1; attempt <= 2; attempt++ {
		if err := w.Work(context.Background(), job(img.ID, attempt)); err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	got, err := e.db.ImageByID(context.Background(), img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(vitrine.DefaultSpecs()); got.Status != vitrine.StatusReady || len(got.Renditions) != n {
		t.Fatalf("got %s with %d renditions, want ready with %d", got.Status, len(got.Renditions), n)
	}
	want := []string{img.Key}
	for _, r := range got.Renditions {
		want = append(want, r.Key)
		if r.Key != vitrine.RenditionKey(img.Key, specNamed(r.Name), r.Format) || !r.Current(specNamed(r.Name)) {
			t.Errorf("%s: got key %s", r.Name, r.Key)
		}
	}
	th, _ := got.Rendition("thumbnail")
	md, _ := got.Rendition("medium")
	if th.Width != 200 || th.Height != 100 || md.Width != 800 || md.Height != 400 {
		t.Errorf("got thumbnail %dx%d medium %dx%d, want 200x100 and 800x400", th.Width, th.Height, md.Width, md.Height)
	}
	slices.Sort(want)
	if files := e.files(t); !slices.Equal(files, want) {
		t.Fatalf("after two runs: got files %v, want %v (one set)", files, want)
	}
}

func specNamed(name string) vitrine.Spec {
	for _, s := range vitrine.DefaultSpecs() {
		if s.Name == name {
			return s
		}
	}
	return vitrine.Spec{}
}

func TestRenderWorkerUndecodableOriginalFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, []byte("\x89PNG\r\n\x1a\nthis is not the rest of a PNG"))
	err := e.worker(vips.NewRenderer()).Work(context.Background(), job(img.ID, 1))
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("got %v, want a JobCancel: retrying cannot help", err)
	}
	got, _ := e.db.ImageByID(context.Background(), img.ID)
	if got.Status != vitrine.StatusFailed || got.Error == "" {
		t.Fatalf("got status %s (%q), want failed with a reason", got.Status, got.Error)
	}
	if files := e.files(t); !slices.Equal(files, []string{img.Key}) {
		t.Fatalf("got files %v, want only the original", files)
	}
}

func TestRenderWorkerLastAttemptMarksFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, pngOf(t, 50, 50))
	// The original vanished from storage: a transient error for the first
	// attempts (retried), the end of the line on the last.
	if err := e.blobs.Delete(context.Background(), img.Key); err != nil {
		t.Fatal(err)
	}
	w := e.worker(vips.NewRenderer())
	if err := w.Work(context.Background(), job(img.ID, 1)); err == nil {
		t.Fatal("got nil, want an error to retry")
	}
	if got, _ := e.db.ImageByID(context.Background(), img.ID); got.Status != vitrine.StatusPending {
		t.Fatalf("after attempt 1: got %s, want pending", got.Status)
	}
	if err := w.Work(context.Background(), job(img.ID, 8)); err == nil {
		t.Fatal("got nil on the last attempt, want the error")
	}
	if got, _ := e.db.ImageByID(context.Background(), img.ID); got.Status != vitrine.StatusFailed {
		t.Fatalf("after the last attempt: got %s, want failed", got.Status)
	}
}

func TestRenderWorkerImageGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, pngOf(t, 50, 50))
	if _, err := e.db.DeleteImage(context.Background(), img.ProductID, img.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.worker(vips.NewRenderer()).Work(context.Background(), job(img.ID, 1)); err != nil {
		t.Fatalf("got %v, want nil: nothing left to do", err)
	}
}

// deletingRenderer is the real renderer, plus a deletion of the image
// while it renders: the race between a render job and a DELETE.
type deletingRenderer struct {
	*vips.Renderer
	del func()
}

func (d deletingRenderer) Render(ctx context.Context, src []byte, specs []vitrine.Spec) (vitrine.RenderResult, error) {
	d.del()
	return d.Renderer.Render(ctx, src, specs)
}

func TestRenderWorkerImageDeletedMidRenderLeavesNoFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, pngOf(t, 300, 300))
	r := deletingRenderer{vips.NewRenderer(), func() {
		dropped, err := e.db.DeleteImage(context.Background(), img.ProductID, img.ID)
		if err != nil {
			t.Error(err)
		}
		for _, k := range dropped {
			e.blobs.Delete(context.Background(), k)
		}
	}}
	if err := e.worker(r).Work(context.Background(), job(img.ID, 1)); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if files := e.files(t); len(files) != 0 {
		t.Fatalf("got files %v, want none: the worker removes what it wrote for a deleted image", files)
	}
}

func TestDeleteWorkerIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	img := e.addImage(t, pngOf(t, 20, 20))
	w := &DeleteWorker{blobs: e.blobs}
	args := &river.Job[DeleteArgs]{JobRow: &rivertype.JobRow{Attempt: 1}, Args: DeleteArgs{Keys: []string{img.Key, "products/2026/01/01/missing.png"}}}
	for range 2 {
		if err := w.Work(context.Background(), args); err != nil {
			t.Fatalf("got %v, want nil: a missing file counts as deleted", err)
		}
	}
	if files := e.files(t); len(files) != 0 {
		t.Fatalf("got files %v, want none", files)
	}
}

// TestRunnerWorksEnqueuedJobs runs the wiring: a render job enqueued by the
// store's transaction is picked up by a started Runner.
func TestRunnerWorksEnqueuedJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	runner, err := NewRunner(e.pool.Write, "sqlite", RunnerConfig{RenderWorkers: 1, PollInterval: 20 * time.Millisecond, Specs: vitrine.DefaultSpecs()},
		e.log, metrics.New(e.log, nil), e.db, e.blobs, vips.NewRenderer())
	if err != nil {
		t.Fatal(err)
	}
	events, cancel := runner.Subscribe()
	defer cancel()
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop(context.Background())
	img := e.addImage(t, pngOf(t, 400, 400))
	select {
	case ev := <-events:
		if ev.Kind != river.EventKindJobCompleted {
			t.Fatalf("got event %s, want completed", ev.Kind)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("render job not worked within 30s")
	}
	if got, _ := e.db.ImageByID(context.Background(), img.ID); got.Status != vitrine.StatusReady {
		t.Fatalf("got %s, want ready", got.Status)
	}
}

// overlapRenderer is the real renderer, which on entry waits a moment for
// a second render to join it, and records the most renders seen at once.
type overlapRenderer struct {
	*vips.Renderer
	mu      sync.Mutex
	cond    *sync.Cond
	running int
	most    int
}

func (o *overlapRenderer) Render(ctx context.Context, src []byte, specs []vitrine.Spec) (vitrine.RenderResult, error) {
	o.mu.Lock()
	o.running++
	o.most = max(o.most, o.running)
	o.cond.Broadcast()
	// Wait (at most 300 ms) for company, so that renders the budget lets
	// through together are seen together.
	timer := time.AfterFunc(300*time.Millisecond, func() { o.mu.Lock(); o.cond.Broadcast(); o.mu.Unlock() })
	start := time.Now()
	for o.running < 2 && time.Since(start) < 300*time.Millisecond {
		o.cond.Wait()
	}
	timer.Stop()
	o.mu.Unlock()
	defer func() { o.mu.Lock(); o.running--; o.mu.Unlock() }()
	return o.Renderer.Render(ctx, src, specs)
}

// TestRenderMemoryBudget runs three renders at once: with a budget that
// holds one render's estimate they run one at a time; without a budget
// they overlap (the control that shows the check can fail).
func TestRenderMemoryBudget(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		budget  int64
		wantOne bool // at most one at a time, else at least two at once
	}{
		{"budget for one", 40 << 20, true},
		{"no budget", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := &overlapRenderer{Renderer: vips.NewRenderer()}
			r.cond = sync.NewCond(&r.mu)
			w := e.worker(r)
			if tt.budget > 0 {
				w.budget, w.budgetSize = semaphore.NewWeighted(tt.budget), tt.budget
			}
			var imgs []*vitrine.Image
			for range 3 {
				imgs = append(imgs, e.addImage(t, pngOf(t, 300, 300)))
			}
			var wg sync.WaitGroup
			for _, img := range imgs {
				wg.Go(func() {
					if err := w.Work(context.Background(), job(img.ID, 1)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if tt.wantOne && r.most != 1 {
				t.Errorf("renders at once: got %d, want 1", r.most)
			}
			if !tt.wantOne && r.most < 2 {
				t.Errorf("renders at once: got %d, want 2 or more", r.most)
			}
			for _, img := range imgs {
				if got, _ := e.db.ImageByID(context.Background(), img.ID); got.Status != vitrine.StatusReady {
					t.Errorf("image %d: got %s, want ready", img.ID, got.Status)
				}
			}
		})
	}
}
