package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/bench/host"
	"github.com/vitrine/vitrine/vips"
)

// concurrentResult is what the concurrent child reports.
type concurrentResult struct {
	N            int
	Set          string
	Seconds      float64
	BaselineRSSK int // VmRSS before rendering: runtime, libvips and the file in memory
	PeakRSSK     int // VmHWM at the end
}

// runConcurrent renders set for the file at path in n goroutines started
// together, on two cores, and reports the process's peak RSS.
func runConcurrent(ctx context.Context, n int, set, path string) (concurrentResult, error) {
	runtime.GOMAXPROCS(2)
	if err := vips.Init(1); err != nil {
		return concurrentResult{}, err
	}
	r := vips.NewRenderer()
	src, err := os.ReadFile(path)
	if err != nil {
		return concurrentResult{}, err
	}
	info, err := r.Probe(ctx, path)
	if err != nil {
		return concurrentResult{}, err
	}
	specs, err := specsFor(set, info.Width, info.Height)
	if err != nil {
		return concurrentResult{}, err
	}
	res := concurrentResult{N: n, Set: set, BaselineRSSK: host.StatusKB("self", "VmRSS")}

	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := r.Render(ctx, src, specs)
			errs <- err
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	res.Seconds = time.Since(t0).Seconds()
	close(errs)
	for err := range errs {
		if err != nil {
			return res, err
		}
	}
	res.PeakRSSK = host.StatusKB("self", "VmHWM")
	return res, nil
}

// soakSample is the RSS after some number of renders.
type soakSample struct {
	Renders int
	RSSK    int // VmRSS
	GoK     int // of which at most this much is Go's: memory the Go runtime holds from the OS
}

// soakResult is what the soak child reports.
type soakResult struct {
	Renders      int
	Workers      int
	Files        int
	Seconds      float64
	MallocArenas string // MALLOC_ARENA_MAX as the process saw it
	Samples      []soakSample
	PeakRSSK     int // VmHWM at the end
}

// soakWorkers is the number of goroutines of the soak test: the server's
// default number of render workers.
const soakWorkers = 2

// soakBatch is the number of renders between two RSS samples.
const soakBatch = 100

// runSoak renders the default set o.n times, cycling through the corpus,
// in soakWorkers goroutines on two cores: glibc's malloc arenas make a
// long-running libvips process creep, which only a long run shows. It
// samples VmRSS after every soakBatch renders, once both goroutines are
// idle, so that a sample shows what the process kept rather than which
// image happened to be in flight.
func runSoak(ctx context.Context, o options) (soakResult, error) {
	runtime.GOMAXPROCS(2)
	if err := vips.Init(1); err != nil {
		return soakResult{}, err
	}
	files, err := loadCorpus(ctx, o.corpus, o.list, o.files)
	if err != nil {
		return soakResult{}, err
	}
	res := soakResult{Renders: o.n, Workers: soakWorkers, Files: len(files), MallocArenas: os.Getenv("MALLOC_ARENA_MAX")}
	r := vips.NewRenderer()
	specs := mustSpecs(setDefault)

	t0 := time.Now()
	for done := 0; done < o.n; done += soakBatch {
		batch := min(soakBatch, o.n-done)
		next := make(chan int, batch) // the render numbers of this batch
		for i := range batch {
			next <- done + i
		}
		close(next)
		errs := make(chan error, soakWorkers)
		for range soakWorkers {
			go func() {
				for i := range next {
					f := files[i%len(files)]
					if _, err := r.Render(ctx, f.Data, specs); err != nil {
						errs <- fmt.Errorf("render %s: %w", f.Name, err)
						return
					}
				}
				errs <- nil
			}()
		}
		for range soakWorkers {
			if err := <-errs; err != nil {
				return res, err
			}
		}
		rss := host.StatusKB("self", "VmRSS")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		goK := int((ms.Sys - ms.HeapReleased) / 1024)
		res.Samples = append(res.Samples, soakSample{Renders: done + batch, RSSK: rss, GoK: goK})
		progress("soak %d/%d renders: VmRSS %d MiB, Go at most %d MiB", done+batch, o.n, rss/1024, goK/1024)
	}
	res.Seconds = time.Since(t0).Seconds()
	res.PeakRSSK = host.StatusKB("self", "VmHWM")
	return res, nil
}

// mustSpecs returns a set that does not depend on the original's size.
func mustSpecs(set string) []vitrine.Spec {
	specs, err := specsFor(set, 0, 0)
	if err != nil {
		panic(err) // a constant set name is wrong: a bug here
	}
	return specs
}
