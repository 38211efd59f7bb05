package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine/vitrine/bench/host"
	"github.com/vitrine/vitrine/vips"
)

// concurrentFile is the 14.7 MP original of the memory test.
const concurrentFile = "safelanding-5120x2880.jpg"

// results is everything one run measured; results.json holds it as is.
type results struct {
	Started    time.Time
	Seconds    float64
	Command    string
	Machine    machine
	Files      []fileInfo
	Speed      speedResult
	Quality    []qualityFile
	Concurrent []concurrentResult // vitrine's sets, 8 goroutines
	PillowConc concurrentResult   // the note's code, 8 threads
	Soak       soakResult
	E2E        []e2eRun
	Burst      *e2eRun `json:",omitempty"`
}

// fileInfo describes a corpus file for the report.
type fileInfo struct {
	Name   string
	Format string
	Width  int
	Height int
	Bytes  int
}

// runAll measures everything and writes the report.
func runAll(ctx context.Context, o options) error {
	res := results{Started: time.Now(), Command: o.command}
	loadBefore := host.LoadAverage()
	if res.Command == "" {
		res.Command = strings.Join(os.Args, " ")
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := vips.Init(1); err != nil {
		return err
	}
	files, err := loadCorpus(ctx, o.corpus, o.list, o.files)
	if err != nil {
		return err
	}
	for _, f := range files {
		res.Files = append(res.Files, fileInfo{f.Name, string(f.Format), f.Width, f.Height, len(f.Data)})
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	common := []string{"-corpus", o.corpus, "-list", o.list, "-files", strconv.Itoa(o.files)}

	// 1. Speed, in a child pinned to CPU 0 with its Pillow worker.
	progress("speed: %d rounds over %d files, one core", o.rounds, len(files))
	speedCmd := append([]string{self, "-mode=speed", "-rounds", strconv.Itoa(o.rounds), "-python", o.python, "-pillow", o.pillow}, common...)
	if ts, err := exec.LookPath("taskset"); err == nil {
		speedCmd = append([]string{ts, "-c", "0"}, speedCmd...)
	}
	if err := runChild(&res.Speed, []string{"GOMAXPROCS=1"}, speedCmd...); err != nil {
		return fmt.Errorf("speed: %w", err)
	}

	// 2. Quality, with a Pillow worker of its own, on both cores.
	w, _, err := startPillow(o.python, o.pillow, false)
	if err != nil {
		return err
	}
	res.Machine = describeMachine(w)
	res.Machine.LoadBefore = loadBefore
	tmp, err := os.MkdirTemp("", "vitrine-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	res.Quality, err = runQuality(ctx, files, w, tmp)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	// 3. Memory, each measurement in a process of its own.
	big := filepath.Join(o.corpus, concurrentFile)
	for _, set := range []string{setDefault, setNote3} {
		progress("memory: %s set, 8 goroutines on %s", set, concurrentFile)
		var c concurrentResult
		if err := runChild(&c, nil, self, "-mode=concurrent", "-n", "8", "-set", set, big); err != nil {
			return fmt.Errorf("concurrent %s: %w", set, err)
		}
		res.Concurrent = append(res.Concurrent, c)
	}
	progress("memory: the note's code, 8 threads on %s", concurrentFile)
	var pc struct {
		N             int
		Seconds       float64
		BaselineRSSKB int `json:"baseline_rss_kb"`
		PeakRSSKB     int `json:"peak_rss_kb"`
	}
	if err := runChild(&pc, nil, o.python, o.pillow, "concurrent", "8", big); err != nil {
		return fmt.Errorf("pillow concurrent: %w", err)
	}
	res.PillowConc = concurrentResult{N: pc.N, Set: setNote3, Seconds: pc.Seconds, BaselineRSSK: pc.BaselineRSSKB, PeakRSSK: pc.PeakRSSKB}
	progress("memory: soak, %d renders of the default set", o.soak)
	soakCmd := append([]string{self, "-mode=soak", "-n", strconv.Itoa(o.soak)}, common...)
	if err := runChild(&res.Soak, nil, soakCmd...); err != nil {
		return fmt.Errorf("soak: %w", err)
	}

	// 4. End to end: one server with one render worker, one with two, and
	// one (two workers) taking 8 simultaneous uploads of the 14.7 MP file.
	for _, workers := range []int{1, 2} {
		progress("e2e: vitrine serve with %d render workers", workers)
		run, err := runE2E(ctx, o, files, workers, workers == 2, nil)
		if err != nil {
			return fmt.Errorf("e2e with %d workers: %w", workers, err)
		}
		res.E2E = append(res.E2E, run)
	}
	bigData, err := os.ReadFile(big)
	if err != nil {
		return err
	}
	progress("e2e: %d simultaneous uploads of %s", burstClients, concurrentFile)
	burst, err := runE2E(ctx, o, files, 2, false, &corpusFile{Name: concurrentFile, Path: big, Data: bigData})
	if err != nil {
		return fmt.Errorf("e2e burst: %w", err)
	}
	res.Burst = &burst

	res.Seconds = time.Since(res.Started).Seconds()
	res.Machine.LoadAfter = host.LoadAverage()
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "results.json"), data, 0o644); err != nil {
		return err
	}
	report := writeReport(res)
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(report), 0o644); err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(report)
	progress("done in %.1f minutes; report in %s", res.Seconds/60, filepath.Join(o.out, "report.md"))
	return err
}

// runChild runs a measuring process with extra environment variables and
// decodes the JSON it prints on stdout into out; its progress goes to our
// stderr.
func runChild(out any, env []string, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return json.Unmarshal(data, out)
}

// machine describes where the run happened.
type machine struct {
	CPUs           int
	CPUModel       string
	Memory         string
	Kernel         string
	Libvips        string
	Pillow         pillowVersions
	Packages       string // libjpeg-turbo and libwebp, shared by libvips and Pillow
	Go             string
	MallocArenaMax string
	// The load averages when the run started and ended: other processes
	// on this machine disturb the timings.
	LoadBefore, LoadAfter string
}

func describeMachine(w *pillowWorker) machine {
	m := machine{
		CPUs:           runtime.NumCPU(),
		CPUModel:       host.ProcField("/proc/cpuinfo", "model name"),
		Memory:         host.MemTotal(),
		Kernel:         strings.TrimSpace(host.ReadFile("/proc/sys/kernel/osrelease")),
		Libvips:        host.Output("pkg-config", "--modversion", "vips"),
		Packages:       host.Output("dpkg-query", "-W", "-f", "${Package} ${Version}, ", "libjpeg62-turbo", "libwebp7"),
		Go:             runtime.Version(),
		MallocArenaMax: os.Getenv("MALLOC_ARENA_MAX"),
	}
	m.Packages = strings.TrimSuffix(m.Packages, ",")
	if err := w.call(map[string]any{"op": "version"}, &m.Pillow); err != nil {
		m.Pillow.Pillow = "unknown: " + err.Error()
	}
	return m
}
