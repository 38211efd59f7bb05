// Command renderpeak measures the peak memory of rendering one image with
// the default renditions, beside vips.Renderer.RenderMemory's estimate. Run
// it once per file (a fresh process, so that the peak is this render's):
//
//	go build -o bin/renderpeak ./bench/renderpeak
//	for f in bench/corpus/*; do bin/renderpeak "$f"; done
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/bench/host"
	"github.com/vitrine/vitrine/vips"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: renderpeak FILE")
		os.Exit(2)
	}
	if err := vips.Init(1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	src, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	r := vips.NewRenderer()
	base := int64(host.StatusKB("self", "VmRSS"))
	// Reset the high-water mark to the current RSS (Linux clear_refs 5).
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	res, err := r.Render(context.Background(), src, vitrine.DefaultSpecs())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	peak := (int64(host.StatusKB("self", "VmHWM")) - base) << 10
	est := r.RenderMemory(src, res.Source.Width, res.Source.Height)
	fmt.Printf("%-40s %6.1f MP  peak %6.1f MiB  estimate %6.1f MiB  estimate/peak %.2f\n", os.Args[1],
		float64(res.Source.Width*res.Source.Height)/1e6, float64(peak)/(1<<20), float64(est)/(1<<20), float64(est)/float64(peak))
}
