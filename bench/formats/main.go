// Command formats measures what an encoder choice costs: for every file it
// is given, it renders one rendition at a time with each of a few specs
// (WebP and AVIF at 800 px and at 2048 px, at two efforts) and prints the
// median time and the bytes of each, then the totals over all files. One
// render includes the decode and the resize, which are the same for every
// spec of a size, so the differences between specs of a size are the
// encoders'. It runs on one core (libvips concurrency 1); pin it with
// taskset for steadier numbers:
//
//	go build -o bin/formats ./bench/formats
//	taskset -c 0 bin/formats -rounds 3 bench/corpus/*
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/vips"
)

// specs are compared in pairs of one size; the first of each size is the
// default set's choice.
var specs = []string{
	"medium_webp=800x800,webp,q85",
	"medium_avif=800x800,avif,q85",
	"large=2048x2048,webp,q85,e2",
	"large_e4=2048x2048,webp,q85,e4",
	"large_avif_e2=2048x2048,avif,q85,e2",
	"large_avif_e4=2048x2048,avif,q85,e4",
}

func main() {
	rounds := flag.Int("rounds", 3, "renders per file and spec; the median is reported")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: formats [-rounds N] FILE...")
		os.Exit(2)
	}
	if err := run(*rounds, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "formats:", err)
		os.Exit(1)
	}
}

func run(rounds int, files []string) error {
	runtime.GOMAXPROCS(1)
	if err := vips.Init(1); err != nil {
		return err
	}
	var parsed []vitrine.Spec
	for _, s := range specs {
		sp, err := vitrine.ParseSpec(s)
		if err != nil {
			return err
		}
		parsed = append(parsed, sp)
	}
	r := vips.NewRenderer()
	ctx := context.Background()
	totalTime := make([]time.Duration, len(parsed))
	totalBytes := make([]int, len(parsed))

	fmt.Printf("| file | MP |")
	for _, sp := range parsed {
		fmt.Printf(" %s |", sp.Name)
	}
	fmt.Printf("\n|---|---:|%s\n", strings.Repeat("---:|", len(parsed)))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Printf("| %s |", filepath.Base(f))
		var mp float64
		var cells []string
		for i, sp := range parsed {
			var times []time.Duration
			var size int
			// Rounds go spec by spec, not file by file, so that each
			// spec's renders see the same state of the machine's caches;
			// the medians tame the noise of a shared machine.
			for range rounds {
				start := time.Now()
				res, err := r.Render(ctx, src, []vitrine.Spec{sp})
				if err != nil {
					return fmt.Errorf("%s %s: %w", f, sp.Name, err)
				}
				times = append(times, time.Since(start))
				size = len(res.Renditions[0].Data)
				mp = float64(res.Source.Width*res.Source.Height) / 1e6
			}
			slices.Sort(times)
			med := times[len(times)/2]
			totalTime[i] += med
			totalBytes[i] += size
			cells = append(cells, fmt.Sprintf(" %.2f s, %d KB |", med.Seconds(), size/1000))
		}
		fmt.Printf(" %.1f |", mp)
		for _, c := range cells {
			fmt.Print(c)
		}
		fmt.Println()
	}
	fmt.Printf("| **all %d files** | |", len(files))
	for i := range parsed {
		fmt.Printf(" %.2f s, %d KB |", totalTime[i].Seconds(), totalBytes[i]/1000)
	}
	fmt.Println()
	fmt.Println()
	// Each spec against the first of its size (the default's choice).
	for i, sp := range parsed {
		base := 0
		if sp.Width == 2048 {
			base = 2
		}
		if i == base {
			continue
		}
		fmt.Printf("- %s vs %s: %.2fx the time, %+.1f%% bytes\n", sp.Name, parsed[base].Name,
			float64(totalTime[i])/float64(totalTime[base]),
			100*(float64(totalBytes[i])/float64(totalBytes[base])-1))
	}
	return nil
}
