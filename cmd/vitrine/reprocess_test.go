package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/vips"
)

func TestReprocessPlan(t *testing.T) {
	t.Parallel()
	specs := vitrine.DefaultSpecs()[:2] // thumbnail, medium
	square := vitrine.Spec{Name: "square", Width: 100, Height: 100, Fit: vitrine.Cover, Format: vitrine.WebP, Quality: 80}
	current := func(sp vitrine.Spec) vitrine.Rendition { return vitrine.Rendition{Name: sp.Name, Spec: sp.String()} }
	stale := func(sp vitrine.Spec) vitrine.Rendition { return vitrine.Rendition{Name: sp.Name, Spec: "old"} }
	img := func(rs ...vitrine.Rendition) *vitrine.Image { return &vitrine.Image{ID: 7, Renditions: rs} }
	tests := []struct {
		name        string
		img         *vitrine.Image
		specs       []vitrine.Spec
		only        string
		missingOnly bool
		wantOnly    []string // nil: all
		wantJob     bool
		wantDrop    []string
	}{
		{"all current", img(current(specs[0]), current(specs[1])), specs, "", false, nil, false, nil},
		{"never rendered", img(), specs, "", false, nil, true, nil},
		{"one stale", img(stale(specs[0]), current(specs[1])), specs, "", false, []string{"thumbnail"}, true, nil},
		{"stale but missing-only", img(stale(specs[0]), current(specs[1])), specs, "", true, nil, false, nil},
		{"new spec", img(current(specs[0]), current(specs[1])), append(specs, square), "", false, []string{"square"}, true, nil},
		{"obsolete", img(current(specs[0]), current(specs[1]), current(square)), specs, "", false, nil, false, []string{"square"}},
		{"obsolete kept with --rendition", img(current(specs[0]), stale(specs[1]), current(square)), specs, "medium", false, []string{"medium"}, true, nil},
		{"only a current one", img(current(specs[0]), stale(specs[1])), specs, "thumbnail", false, nil, false, nil},
	}
	for _, tt := range tests {
		job, drop := reprocessPlan(tt.img, tt.specs, tt.only, tt.missingOnly)
		if (job != nil) != tt.wantJob || job != nil && !slices.Equal(job.Only, tt.wantOnly) || !slices.Equal(drop, tt.wantDrop) {
			t.Errorf("%s: got job %+v, drop %v; want job %v only %v, drop %v", tt.name, job, drop, tt.wantJob, tt.wantOnly, tt.wantDrop)
		}
	}
}

// TestReprocess changes the rendition set under rendered images and runs
// the real command: new renditions are made, a second run finds nothing to
// do, obsolete ones go, and the flags narrow what is done.
func TestReprocess(t *testing.T) {
	dir := t.TempDir()
	note := "thumbnail=200x200,contain,jpeg,q85;medium=800x800,contain,jpeg,q90"
	withSquare := note + ";square=100x100,cover,webp,q80"
	getenv := func(renditions string) func(string) string {
		return env(map[string]string{"VITRINE_DATA_DIR": dir, "VITRINE_RENDITIONS": renditions, "VITRINE_POLL_INTERVAL": "20ms"})
	}
	ids := seedImages(t, getenv(note), 3)

	reprocess := func(renditions string, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"reprocess"}, args...), getenv(renditions), &out, io.Discard); err != nil {
			t.Fatalf("reprocess %v: %v", args, err)
		}
		return out.String()
	}
	wantOut := func(out string, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(out, p) {
				t.Errorf("got %q, want it to say %q", out, p)
			}
		}
	}
	wantRenditions := func(names ...string) {
		t.Helper()
		for _, id := range ids {
			img := imageByID(t, getenv(note), id)
			var got []string
			for _, r := range img.Renditions {
				got = append(got, r.Name)
			}
			slices.Sort(got)
			slices.Sort(names)
			if !slices.Equal(got, names) || img.Status != vitrine.StatusReady {
				t.Fatalf("image %d: got %v (%s), want %v (ready)", id, got, img.Status, names)
			}
		}
	}

	wantOut(reprocess(withSquare), "3 images checked, 0 current, 3 queued (3 done, 0 failed")
	wantRenditions("medium", "square", "thumbnail")
	wantOut(reprocess(withSquare), "3 current, 0 queued")

	changed := note + ";square=100x100,cover,webp,q60"
	wantOut(reprocess(changed, "--missing-only"), "3 current, 0 queued")
	wantOut(reprocess(changed, "--rendition", "thumbnail"), "3 current, 0 queued")
	wantOut(reprocess(changed, "--rendition", "square"), "3 queued (3 done")
	wantOut(reprocess(note), "3 current, 0 queued", "3 obsolete renditions removed")
	wantRenditions("medium", "thumbnail")

	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"reprocess", "--rendition", "nope"}, getenv(note), io.Discard, &stderr); err == nil {
		t.Fatal("an unknown --rendition: got nil, want an error")
	}
}

// seedImages stores n rendered gallery images with the configuration of
// getenv, through the store and the real workers.
func seedImages(t *testing.T, getenv func(string) string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	cfg, _, err := loadConfig("test", nil, getenv, io.Discard, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := vips.Init(1); err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	p := &vitrine.Product{Name: "p", Slug: "p"}
	if err := a.db.CreateProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	var imgs []*vitrine.Image
	for range n {
		var buf bytes.Buffer
		png.Encode(&buf, image.NewGray(image.Rect(0, 0, 400, 300)))
		key := vitrine.OriginalKey(time.Now(), vitrine.PNG)
		if err := a.blobs.Put(ctx, key, bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, &vitrine.Image{Key: key, Format: vitrine.PNG, Width: 400, Height: 300, Bytes: int64(buf.Len())})
	}
	if _, err := a.db.AddImages(ctx, p.ID, imgs, true, 50); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, img := range imgs {
		ids = append(ids, img.ID)
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, err := a.db.ImageByID(ctx, img.ID)
			if err == nil && got.Status == vitrine.StatusReady {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("image %d not rendered: %v %v", img.ID, got, err)
			}
			time.Sleep(20 * time.Millisecond) // the workers run in the background
		}
	}
	return ids
}

func imageByID(t *testing.T, getenv func(string) string, id int64) *vitrine.Image {
	t.Helper()
	cfg, _, err := loadConfig("test", nil, getenv, io.Discard, dataOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	pool, db, _, err := openStore(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	img, err := db.ImageByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
