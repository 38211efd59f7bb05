// Command render is vitrine's benchmark harness, run by `make bench` through
// bench/run.sh. It compares vitrine's libvips renderer with the design note's
// Pillow code (bench/note_pillow.py) on the corpus of bench/corpus.sh: speed
// on one core, output bytes, quality (SSIM), memory, and the whole server
// end to end. It prints a Markdown report on stdout and writes it, with the
// raw results as JSON, to the -out directory.
//
// run.sh builds it as bench/out/vitrine-bench. Every measurement that needs
// a process of its own is this same binary run again as a child in one of
// the modes below, so its peak RSS or its CPU pinning is its own:
//
//	vitrine-bench [flags]                              everything, then the report (the default mode, "all")
//	vitrine-bench -mode=speed [flags]                  the timed rounds; JSON on stdout
//	vitrine-bench -mode=concurrent -n 8 [-set S] FILE  S rendered by n goroutines at once; JSON on stdout
//	vitrine-bench -mode=soak -n 1000 [flags]           the default set n times over the corpus; JSON on stdout
//	vitrine-bench -mode=ssim A.pgm B.pgm               the SSIM of two 8-bit PGM files, to check ssim.go
//
// Progress goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

// options are the flags of every mode; each mode reads the ones it needs.
type options struct {
	mode      string
	corpus    string // directory of the corpus files
	list      string // corpus.sha256: the names of the corpus files
	files     int    // use only the first files of the corpus (0: all)
	rounds    int
	n         int    // goroutines (concurrent) or renders (soak)
	set       string // rendition set of the concurrent mode
	soak      int    // renders of the soak child, in mode all
	e2eRounds int
	python    string
	pillow    string // note_pillow.py
	vitrine   string // the server binary
	out       string // directory of report.md and results.json
	command   string // how the run was started, for the report
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "all", "all, speed, concurrent, soak or ssim")
	flag.StringVar(&o.corpus, "corpus", "bench/corpus", "directory of the corpus files")
	flag.StringVar(&o.list, "list", "bench/corpus.sha256", "checksum list naming the corpus files")
	flag.IntVar(&o.files, "files", 0, "use only the first N corpus files, smallest JPEGs first (0: all)")
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved timing rounds")
	flag.IntVar(&o.n, "n", 8, "concurrent: goroutines; soak: renders")
	flag.StringVar(&o.set, "set", "default", "concurrent: rendition set (thumb+medium, note3 or default)")
	flag.IntVar(&o.soak, "soak", 1000, "renders of the soak test")
	flag.IntVar(&o.e2eRounds, "e2e-rounds", 3, "end-to-end rounds over the corpus (latency and throughput)")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python with Pillow (Debian's python3-pil)")
	flag.StringVar(&o.pillow, "pillow", "bench/note_pillow.py", "the note's Pillow code as a worker")
	flag.StringVar(&o.vitrine, "vitrine", "bin/vitrine", "the vitrine server binary")
	flag.StringVar(&o.out, "out", "bench/out", "directory for report.md and results.json")
	flag.StringVar(&o.command, "command", "", "the command that started the run, for the report")
	flag.Parse()

	ctx := context.Background()
	var res any
	var err error
	switch o.mode {
	case "all":
		err = runAll(ctx, o)
	case "speed":
		res, err = runSpeed(ctx, o)
	case "concurrent":
		if flag.NArg() != 1 {
			err = fmt.Errorf("-mode=concurrent wants one FILE")
			break
		}
		res, err = runConcurrent(ctx, o.n, o.set, flag.Arg(0))
	case "soak":
		res, err = runSoak(ctx, o)
	case "ssim":
		if flag.NArg() != 2 {
			err = fmt.Errorf("-mode=ssim wants two PGM files")
			break
		}
		res, err = ssimFiles(flag.Arg(0), flag.Arg(1))
	default:
		err = fmt.Errorf("unknown -mode %q", o.mode)
	}
	if err == nil && res != nil {
		err = json.NewEncoder(os.Stdout).Encode(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// progress writes one line of progress to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
