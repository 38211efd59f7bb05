package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/vitrine/vitrine/vips"
)

// score is one engine's rendition compared with its reference.
type score struct {
	Width  int
	Height int
	Bytes  int
	SSIM   float64
}

// qualityFile holds, for one original, every engine's score per rendition:
// thumbnail and medium against Pillow's exact Lanczos resize of a full
// decode to the same size, full_webp against the decoded original.
type qualityFile struct {
	Name   string
	Scores map[string]map[string]score // engine, then rendition
}

// noteRenditions are the outputs compared for quality.
var noteRenditions = []string{"thumbnail", "medium", "full_webp"}

// runQuality renders the note's three outputs with both engines once per
// file (untimed) and scores them. Every image, whatever its format, is
// decoded by Pillow, composed on white and turned into 8-bit luma
// (convert('L'), ITU-R 601-2) before SSIM, so that one decoder sees them all.
func runQuality(ctx context.Context, files []corpusFile, w *pillowWorker, tmp string) ([]qualityFile, error) {
	r := vips.NewRenderer()
	var out []qualityFile
	for _, f := range files {
		dir := filepath.Join(tmp, f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		q, err := scoreFile(ctx, r, w, f, dir)
		if err != nil {
			return nil, fmt.Errorf("quality of %s: %w", f.Name, err)
		}
		progress("quality %s: thumbnail SSIM vitrine %.4f pillow %.4f, full WebP SSIM vitrine %.4f pillow %.4f",
			f.Name, q.Scores["vitrine"]["thumbnail"].SSIM, q.Scores["pillow"]["thumbnail"].SSIM,
			q.Scores["vitrine"]["full_webp"].SSIM, q.Scores["pillow"]["full_webp"].SSIM)
		out = append(out, q)
		// The full-size luma files are large.
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scoreFile renders f with both engines into dir and scores the outputs.
func scoreFile(ctx context.Context, r *vips.Renderer, w *pillowWorker, f corpusFile, dir string) (qualityFile, error) {
	q := qualityFile{Name: f.Name, Scores: map[string]map[string]score{"vitrine": {}, "pillow": {}}}

	// Each engine's output files, by engine and rendition.
	paths := map[string]map[string]string{"vitrine": {}, "pillow": {}}
	specs, err := specsFor(setNote3, f.Width, f.Height)
	if err != nil {
		return q, err
	}
	res, err := r.Render(ctx, f.Data, specs)
	if err != nil {
		return q, err
	}
	for _, out := range res.Renditions {
		p := filepath.Join(dir, "vitrine-"+out.Spec.Name+"."+string(out.Spec.Format))
		if err := os.WriteFile(p, out.Data, 0o644); err != nil {
			return q, err
		}
		paths["vitrine"][out.Spec.Name] = p
		q.Scores["vitrine"][out.Spec.Name] = score{Width: out.Width, Height: out.Height, Bytes: len(out.Data)}
	}
	run, err := w.render(setNote3, f.Path, dir)
	if err != nil {
		return q, err
	}
	for _, out := range run.Renditions {
		paths["pillow"][out.Name] = out.Path
		q.Scores["pillow"][out.Name] = score{Width: out.Width, Height: out.Height, Bytes: out.Bytes}
	}

	// Luma files: every output, the original, and one reference per size
	// an engine produced.
	luma := map[string]string{} // image path -> PGM path
	toLuma := func(path string) (string, error) {
		if p, ok := luma[path]; ok {
			return p, nil
		}
		p := fmt.Sprintf("%s/luma-%d.pgm", dir, len(luma))
		var size struct{ Width, Height int }
		if err := w.call(map[string]any{"op": "luma", "path": path, "out": p}, &size); err != nil {
			return "", err
		}
		luma[path] = p
		return p, nil
	}
	refs := map[[2]int]string{}
	reference := func(width, height int) (string, error) {
		if p, ok := refs[[2]int{width, height}]; ok {
			return p, nil
		}
		p := fmt.Sprintf("%s/ref-%dx%d.pgm", dir, width, height)
		var size struct{ Width, Height int }
		if err := w.call(map[string]any{"op": "reference", "path": f.Path, "width": width, "height": height, "out": p}, &size); err != nil {
			return "", err
		}
		refs[[2]int{width, height}] = p
		return p, nil
	}

	type pair struct{ engine, rendition, got, want string }
	var pairs []pair
	for _, engine := range []string{"vitrine", "pillow"} {
		for _, name := range noteRenditions {
			got, err := toLuma(paths[engine][name])
			if err != nil {
				return q, err
			}
			var want string
			if name == "full_webp" {
				want, err = toLuma(f.Path)
			} else {
				s := q.Scores[engine][name]
				want, err = reference(s.Width, s.Height)
			}
			if err != nil {
				return q, err
			}
			pairs = append(pairs, pair{engine, name, got, want})
		}
	}

	// SSIM of a full-size pair takes seconds: use both cores.
	values := make([]float64, len(pairs))
	errs := make([]error, len(pairs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, p := range pairs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			values[i], errs[i] = ssimFiles(p.got, p.want)
		}()
	}
	wg.Wait()
	for i, p := range pairs {
		if errs[i] != nil {
			return q, fmt.Errorf("SSIM of %s %s: %w", p.engine, p.rendition, errs[i])
		}
		s := q.Scores[p.engine][p.rendition]
		s.SSIM = values[i]
		q.Scores[p.engine][p.rendition] = s
	}
	return q, nil
}

// ssimFiles returns the SSIM of two PGM files.
func ssimFiles(a, b string) (float64, error) {
	ga, err := readPGM(a)
	if err != nil {
		return 0, err
	}
	gb, err := readPGM(b)
	if err != nil {
		return 0, err
	}
	return ssim(ga, gb)
}
