package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/vips"
)

// reprocessPage is how many images one enqueue transaction covers.
const reprocessPage = 500

// runReprocess serves "vitrine reprocess": after the rendition set changed,
// it finds every image whose renditions are missing or were made from
// another spec, enqueues render jobs for just those renditions, removes
// renditions no longer configured, and works the jobs with its own workers
// (a running server's workers help), showing progress. It is incremental
// (current renditions are skipped) and resumable: interrupted, the queued
// jobs stay queued and a second run picks up where the first stopped.
func runReprocess(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var only, product string
	var missingOnly bool
	cfg, _, err := loadConfig("reprocess", args, getenv, stderr, workers, func(fs *flag.FlagSet) {
		fs.StringVar(&only, "rendition", "", "only this rendition (a configured name)")
		fs.StringVar(&product, "product", "", "only the images of the product with this slug")
		fs.BoolVar(&missingOnly, "missing-only", false, "make missing renditions only; leave stale and obsolete ones")
	})
	if err != nil {
		return err
	}
	if only != "" && !slices.ContainsFunc(cfg.Renditions, func(sp vitrine.Spec) bool { return sp.Name == only }) {
		return fmt.Errorf("reprocess: --rendition %q is not configured (VITRINE_RENDITIONS)", only)
	}
	// Logs would break the progress bar; warnings and errors still show.
	log := newLogger(stderr, "warn")
	if err := vips.Init(cfg.VipsConcurrency); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		a.close(stop)
	}()

	start := time.Now()
	tag := fmt.Sprintf("reprocess-%d", start.UnixNano())
	var sum reprocessSummary
	for after := int64(0); ; {
		imgs, err := a.db.ImagesAfter(ctx, vitrine.Slug(product), after, reprocessPage)
		if err != nil {
			return err
		}
		if len(imgs) == 0 {
			break
		}
		after = imgs[len(imgs)-1].ID
		var batch []jobs.RenderArgs
		for _, img := range imgs {
			sum.scanned++
			job, obsolete := reprocessPlan(img, cfg.Renditions, only, missingOnly)
			if len(obsolete) > 0 {
				if err := a.db.RemoveRenditions(ctx, img.ID, obsolete); err != nil {
					return err
				}
				sum.removed += len(obsolete)
			}
			if job == nil {
				sum.current++
				continue
			}
			batch = append(batch, *job)
		}
		inserted, skipped, err := a.queue.EnqueueReprocess(ctx, batch, tag)
		if err != nil {
			return err
		}
		sum.queued += inserted
		sum.alreadyQueued += skipped
	}

	err = waitForJobs(ctx, a.queue, tag, sum.queued, stderr)
	sum.jobs, _ = a.queue.Progress(context.WithoutCancel(ctx), tag)
	sum.elapsed = time.Since(start)
	fmt.Fprint(stdout, sum.String())
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stdout, "interrupted: %d jobs stay queued; vitrine serve works them, or run reprocess again\n", sum.jobs.Waiting)
		return nil
	}
	return err
}

// reprocessPlan says what an image needs: a render job for its missing
// (and, unless missingOnly, stale) renditions, or nil when they are current;
// and the names of its renditions no longer configured, to remove (never
// with only or missingOnly, which leave the rest of the set alone).
func reprocessPlan(img *vitrine.Image, specs []vitrine.Spec, only string, missingOnly bool) (*jobs.RenderArgs, []string) {
	var need []string
	for _, sp := range specs {
		if only != "" && sp.Name != only {
			continue
		}
		r, ok := img.Rendition(sp.Name)
		if !ok || !missingOnly && !r.Current(sp) {
			need = append(need, sp.Name)
		}
	}
	var obsolete []string
	if only == "" && !missingOnly {
		for _, r := range img.Renditions {
			if !slices.ContainsFunc(specs, func(sp vitrine.Spec) bool { return sp.Name == r.Name }) {
				obsolete = append(obsolete, r.Name)
			}
		}
	}
	if len(need) == 0 {
		return nil, obsolete
	}
	job := &jobs.RenderArgs{ImageID: img.ID, Only: need}
	if len(need) == len(specs) {
		job.Only = nil // all of them: the same job an upload enqueues
	}
	return job, obsolete
}

// waitForJobs follows the tagged jobs until none is waiting to run (jobs
// that failed an attempt are retried later, with backoff, and not waited
// for), drawing a progress bar when out is a terminal and a line every few
// seconds when it is not. It returns ctx's error if interrupted.
func waitForJobs(ctx context.Context, queue *jobs.Queue, tag string, total int, out io.Writer) error {
	if total == 0 {
		return nil
	}
	tty := isTerminal(out)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastLine := time.Now()
	for {
		c, err := queue.Progress(ctx, tag)
		if err != nil {
			return err
		}
		finished := c.Done + c.Failed + c.Retrying
		switch {
		case tty:
			fmt.Fprintf(out, "\r%s %d/%d images", progressBar(finished, total, 30), finished, total)
			if c.Failed+c.Retrying > 0 {
				fmt.Fprintf(out, " (%d failed, %d to retry)", c.Failed, c.Retrying)
			}
		case time.Since(lastLine) > 5*time.Second || c.Waiting == 0:
			fmt.Fprintf(out, "reprocess: %d/%d images done, %d failed, %d to retry\n", finished, total, c.Failed, c.Retrying)
			lastLine = time.Now()
		}
		if c.Waiting == 0 {
			if tty {
				fmt.Fprintln(out)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(out)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func progressBar(n, total, width int) string {
	filled := width * n / max(total, 1)
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type reprocessSummary struct {
	scanned, current, queued, alreadyQueued, removed int
	jobs                                             jobs.JobCounts
	elapsed                                          time.Duration
}

func (s reprocessSummary) String() string {
	return fmt.Sprintf("reprocess: %d images checked, %d current, %d queued (%d done, %d failed, %d to retry later), "+
		"%d already queued, %d obsolete renditions removed, in %s\n",
		s.scanned, s.current, s.queued, s.jobs.Done, s.jobs.Failed, s.jobs.Retrying,
		s.alreadyQueued, s.removed, s.elapsed.Round(time.Millisecond))
}
