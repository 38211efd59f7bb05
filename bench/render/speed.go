package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/vips"
)

// The rendition sets compared.
const (
	setThumbMedium = "thumb+medium" // the note's generate_thumbnails: thumbnail 200 JPEG q85, medium 800 JPEG q90
	setNote3       = "note3"        // those two and the note's full-size WebP q85
	setDefault     = "default"      // vitrine.DefaultSpecs()
)

// specsFor returns vitrine's specs of a set for a width x height original.
func specsFor(set string, width, height int) ([]vitrine.Spec, error) {
	note := vitrine.DefaultSpecs()[:2] // thumbnail and medium, as the note has them
	switch set {
	case setThumbMedium:
		return note, nil
	case setNote3:
		// The note keeps the original's size: a box of exactly that size.
		full := vitrine.Spec{Name: "full_webp", Width: width, Height: height, Fit: vitrine.Contain, Format: vitrine.WebP, Quality: 85}
		return append(note[:2:2], full), nil
	case setDefault:
		return vitrine.DefaultSpecs(), nil
	}
	return nil, fmt.Errorf("unknown rendition set %q", set)
}

// variant is one engine rendering one set.
type variant struct {
	Engine string // "vitrine" or "pillow"
	Set    string
}

func (v variant) String() string { return v.Engine + " " + v.Set }

// variants are timed in this order in even rounds and in reverse in odd
// ones, so that neither engine always runs on a cache the other warmed.
var variants = []variant{
	{"vitrine", setThumbMedium},
	{"vitrine", setNote3},
	{"vitrine", setDefault},
	{"pillow", setThumbMedium},
	{"pillow", setNote3},
}

// rendition is one output file as made by an engine.
type rendition struct {
	Name    string
	Bytes   int
	Width   int
	Height  int
	Seconds float64 `json:",omitempty"` // Pillow only: its share of the run, open and decode included
}

// timing is one variant on one file over every round.
type timing struct {
	Seconds    []float64 // one per round
	Renditions []rendition
}

// speedResult is what the speed child reports.
type speedResult struct {
	Rounds int
	CPUs   string // the CPUs the child was allowed to run on
	Pillow string // how the Pillow worker was pinned
	Files  []string
	Runs   map[string]map[string]*timing // variant, then file name
}

// runSpeed times every variant on every file in interleaved rounds, on one
// core: GOMAXPROCS 1, libvips with one thread, the Pillow worker on CPU 0
// (the parent starts this process on CPU 0 as well).
func runSpeed(ctx context.Context, o options) (speedResult, error) {
	runtime.GOMAXPROCS(1)
	if err := vips.Init(1); err != nil {
		return speedResult{}, err
	}
	files, err := loadCorpus(ctx, o.corpus, o.list, o.files)
	if err != nil {
		return speedResult{}, err
	}
	w, pinned, err := startPillow(o.python, o.pillow, true)
	if err != nil {
		return speedResult{}, err
	}
	defer w.close()

	res := speedResult{Rounds: o.rounds, CPUs: allowedCPUs(), Pillow: "taskset -c 0", Runs: map[string]map[string]*timing{}}
	if !pinned {
		res.Pillow = "not pinned (no taskset)"
	}
	for _, f := range files {
		res.Files = append(res.Files, f.Name)
	}
	r := vips.NewRenderer()

	// One untimed run of every variant first, so that no timed run pays for
	// loading a codec or importing a Pillow plugin.
	for _, v := range variants {
		if _, _, err := measure(ctx, r, w, v, files[0]); err != nil {
			return res, err
		}
	}
	for round := range o.rounds {
		order := slices.Clone(variants)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, f := range files {
			var line []string
			for _, v := range order {
				sec, rends, err := measure(ctx, r, w, v, f)
				if err != nil {
					return res, fmt.Errorf("%s on %s: %w", v, f.Name, err)
				}
				byFile := res.Runs[v.String()]
				if byFile == nil {
					byFile = map[string]*timing{}
					res.Runs[v.String()] = byFile
				}
				t := byFile[f.Name]
				if t == nil {
					t = &timing{}
					byFile[f.Name] = t
				}
				t.Seconds = append(t.Seconds, sec)
				t.Renditions = rends
				line = append(line, fmt.Sprintf("%s %.0f ms", v, sec*1000))
			}
			progress("speed round %d/%d %s: %s", round+1, o.rounds, f.Name, strings.Join(line, ", "))
		}
	}
	return res, nil
}

// measure runs one variant on one file once and returns its time in seconds.
func measure(ctx context.Context, r *vips.Renderer, w *pillowWorker, v variant, f corpusFile) (float64, []rendition, error) {
	if v.Engine == "pillow" {
		run, err := w.render(v.Set, f.Path, "")
		if err != nil {
			return 0, nil, err
		}
		var rends []rendition
		for _, pr := range run.Renditions {
			rends = append(rends, rendition{Name: pr.Name, Bytes: pr.Bytes, Width: pr.Width, Height: pr.Height, Seconds: pr.Seconds})
		}
		return run.Seconds, rends, nil
	}
	specs, err := specsFor(v.Set, f.Width, f.Height)
	if err != nil {
		return 0, nil, err
	}
	// Collect the previous run's garbage now, untimed; with GOMAXPROCS 1 a
	// collection would otherwise run inside some later timed call.
	runtime.GC()
	start := time.Now()
	res, err := r.Render(ctx, f.Data, specs)
	sec := time.Since(start).Seconds()
	if err != nil {
		return 0, nil, err
	}
	return sec, renditionsOf(res), nil
}

// renditionsOf describes vitrine's output files.
func renditionsOf(res vitrine.RenderResult) []rendition {
	var rends []rendition
	for _, out := range res.Renditions {
		rends = append(rends, rendition{Name: out.Spec.Name, Bytes: len(out.Data), Width: out.Width, Height: out.Height})
	}
	return rends
}

// allowedCPUs returns the CPUs this process may run on, from
// /proc/self/status.
func allowedCPUs() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
