package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vitrine/vitrine/bench/host"
)

// report is everything the Markdown summary shows.
type report struct {
	Options         options
	Machine         machine
	Started         time.Time
	Photos          []photo
	Drive           driveResult
	ServerTimes     map[string][]time.Duration // by route: time in vitrine's handlers while driven
	Render          renderResult
	EndToEnd        time.Duration // from the start of the drive until every accepted upload was rendered
	Files           *fileCheck
	LoadBefore      string
	LoadAfter       string
	RSSDriveKB      int                  // largest VmRSS sample while the clients drove (of one process: the largest node)
	RSSDrainKB      int                  // largest VmRSS sample while the queue drained (idem)
	PeakKB          int                  // VmHWM at the end: the true peak of the whole life (idem)
	ServerCPU       float64              // CPU seconds the server used while driven (all nodes together)
	ClientCPU       float64              // CPU seconds this client used meanwhile
	Threads         map[string]threadUse // the server's CPU and wait for a core meanwhile, by thread name (all nodes)
	AliveAfterDrive error                // a server exited during the run
	StopErr         error                // SIGTERM did not stop one cleanly

	Targets []target
	Passed  bool
}

// target is one of the targets and whether it was met.
type target struct {
	Name  string
	Value string
	OK    bool
	// Bug marks the targets whose failure points at the server rather
	// than at a busy machine: a crash, a 5xx, a refused or lost upload.
	Bug bool
	// Advisory marks a target that is reported but does not decide the
	// verdict: the read p99 in -short mode.
	Advisory bool
}

// machine describes where the run happened.
type machine struct {
	CPUModel string
	CPUs     int
	Memory   string
	Kernel   string
	Go       string
	Libvips  string
	Commit   string
	Shape    string // database and storage of the server
	Env      []string
}

func describeMachine() machine {
	m := machine{
		CPUModel: host.ProcField("/proc/cpuinfo", "model name"),
		CPUs:     runtime.NumCPU(),
		Memory:   host.MemTotal(),
		Kernel:   strings.TrimSpace(host.ReadFile("/proc/sys/kernel/osrelease")),
		Go:       host.Output("go", "version"),
		Libvips:  host.Output("pkg-config", "--modversion", "vips"),
		Commit:   host.Output("git", "rev-parse", "--short", "HEAD"),
	}
	if dirty := host.Output("git", "status", "--porcelain", "--untracked-files=no"); dirty != "" && dirty != "unknown" {
		m.Commit += " with uncommitted changes"
	}
	db, storage := "SQLite", "local directory served under /media/"
	if os.Getenv("VITRINE_DATABASE_URL") != "" {
		db = "PostgreSQL"
	}
	if strings.HasPrefix(os.Getenv("VITRINE_STORAGE_URL"), "s3://") {
		storage = "S3"
	}
	m.Shape = db + ", " + storage
	for _, kv := range serverEnv() {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "VITRINE_") && name != "MALLOC_ARENA_MAX" {
			continue
		}
		// URLs may hold passwords.
		if strings.HasSuffix(name, "_URL") {
			value = "(set)"
		}
		m.Env = append(m.Env, name+"="+value)
	}
	slices.Sort(m.Env)
	return m
}

// evaluate checks the targets.
func (r *report) evaluate() {
	st := r.Drive.Stats
	var fiveXX, writeFailures, readFailures int
	for name, rs := range st {
		fiveXX += rs.ServerErrors
		if slices.Contains(readRoutes, name) {
			readFailures += rs.Failed
		} else {
			writeFailures += rs.Failed
		}
	}
	add := func(name, value string, ok bool) {
		r.Targets = append(r.Targets, target{Name: name, Value: value, OK: ok, Bug: true})
	}
	add("the server ran to the end", aliveValue(r.AliveAfterDrive), r.AliveAfterDrive == nil)
	add("zero 5xx (a 503 with Retry-After that the client honoured excepted)", strconv.Itoa(fiveXX), fiveXX == 0)
	add("every upload accepted in the end (no 4xx, no give-up after retries, no connection error)",
		fmt.Sprintf("%d failed", writeFailures), writeFailures == 0)
	add("every read answered 200", fmt.Sprintf("%d failed", readFailures), readFailures == 0)
	lost := r.Render.Missing + r.Render.Failed + r.Render.Pending
	if r.Files != nil {
		lost += r.Files.ImageGone + r.Files.OriginalGone
	}
	broken := 0
	if r.Files != nil {
		broken = r.Files.RenditionGone
	}
	add("zero lost uploads (every 201 ready, its original and renditions served)",
		fmt.Sprintf("%d lost, %d renditions missing", lost, broken), r.AliveAfterDrive == nil && lost == 0 && broken == 0)
	// The remaining targets depend on the machine as much as on the server.
	limitKB := r.Options.rssLimitMiB * 1024
	rssName := fmt.Sprintf("peak RSS (VmHWM) under %d MiB", r.Options.rssLimitMiB)
	if r.Options.nodes > 1 {
		rssName = fmt.Sprintf("peak RSS (VmHWM) of every node under %d MiB", r.Options.rssLimitMiB)
	}
	r.Targets = append(r.Targets, target{Name: rssName, Value: mibK(r.PeakKB), OK: r.PeakKB > 0 && r.PeakKB < limitKB})
	add = func(name, value string, ok bool) {
		r.Targets = append(r.Targets, target{Name: name, Value: value, OK: ok, Advisory: r.Options.short})
	}
	// -readers 0 measures uploads alone: there is no read latency to judge.
	for _, name := range readRoutes {
		if r.Options.readers == 0 {
			break
		}
		rs := st[name]
		if rs == nil || len(rs.OK) == 0 {
			add("read p99 under "+ms(r.Options.readP99)+": "+name, "no requests", false)
			continue
		}
		p99 := percentile(sortedCopy(rs.OK), 0.99)
		add("read p99 under "+ms(r.Options.readP99)+": "+name, ms(p99), p99 < r.Options.readP99)
	}
	r.Passed = true
	for _, t := range r.Targets {
		r.Passed = r.Passed && (t.OK || t.Advisory)
	}
}

// serverBug reports a failure that points at the server rather than at
// the machine: 5xx, a crash or a lost upload.
func (r *report) serverBug() bool {
	for _, t := range r.Targets {
		if t.Bug && !t.OK {
			return true
		}
	}
	return false
}

func aliveValue(err error) string {
	if err != nil {
		return err.Error()
	}
	return "yes"
}

// write renders the report as Markdown.
func (r *report) write(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	o, m, d := r.Options, r.Machine, r.Drive
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	for _, t := range r.Targets {
		if t.Advisory && !t.OK {
			verdict += " (the read p99 target was missed; -short does not enforce it)"
			break
		}
	}
	p("## Load test: %s\n\n", verdict)
	p("```sh\n%s\n```\n\n", o.command)
	if o.command != o.invocation {
		p("which runs `%s`\n\n", o.invocation)
	}
	p("- %s, %s\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), m.Commit)
	p("- %s, %d cores, %s, Linux %s; load average %s before the run, %s after (other work on this machine adds noise)\n",
		m.CPUModel, m.CPUs, m.Memory, m.Kernel, r.LoadBefore, r.LoadAfter)
	p("- %s; libvips %s; server: %s\n", m.Go, m.Libvips, m.Shape)
	p("- server environment: %s\n", orNone(strings.Join(m.Env, " ")))
	var sizes []string
	for _, ph := range r.Photos {
		sizes = append(sizes, fmt.Sprintf("%.1f", float64(len(ph.JPEG))/1e6))
	}
	readers := "no readers"
	if o.readers > 0 {
		readers = fmt.Sprintf("%d readers, each reading a product page (%d products of 4 ready images) then %d media files (renditions; one page in %d also an original), %s",
			o.readers, o.readProducts, mediaPerPage, originalEvery, thinkText(o.think))
	}
	p("- %s of load on %s, client and server on the same cores over loopback: %d uploaders, each sending one of %d generated %dx%d JPEGs (q90, %s MB; a JPEG comment naming the upload makes each a distinct file) to the gallery route and sending the next when answered; %s\n",
		o.duration, nodesText(o.nodes), o.uploaders, len(r.Photos), r.Photos[0].Width, r.Photos[0].Height, strings.Join(sizes, ", "), readers)
	p("- a 503 or 429 with Retry-After is retried after the wait it asks for (at most %d times); latency is measured by the client, from sending the request to the last byte of the answer, for 2xx answers\n\n", maxRetries)

	p("| route | requests | 2xx | p50 | p90 | p99 | max | server p50 | server p99 | other answers |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	names := make([]string, 0, len(d.Stats))
	for name := range d.Stats {
		names = append(names, name)
	}
	order := []string{routeUpload, routeCreate, routeDetail, routeRendition, routeOriginal}
	sort.Slice(names, func(i, j int) bool { return slices.Index(order, names[i]) < slices.Index(order, names[j]) })
	for _, name := range names {
		rs := d.Stats[name]
		ok := sortedCopy(rs.OK)
		total := rs.NetErrs
		for _, v := range rs.Statuses {
			total += v
		}
		server := sortedCopy(r.ServerTimes[name])
		p("| `%s` | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", name, total, len(ok),
			ms(percentile(ok, 0.5)), ms(percentile(ok, 0.9)), ms(percentile(ok, 0.99)), ms(percentile(ok, 1)),
			ms(percentile(server, 0.5)), ms(percentile(server, 0.99)), otherAnswers(rs))
	}
	p("\n")
	p("p50 to max: latency seen by the client; server p50 and p99: the time inside vitrine's handlers, from its log, of the requests it finished during the run. A client p99 far above the server's is time spent waiting outside the handlers: for a core, in the accept queue, in the client.\n\n")

	up := d.Stats[routeUpload]
	if up == nil {
		up = newRouteStats()
	}
	secs := d.Elapsed.Seconds()
	accepted := len(d.Uploads)
	var photoBytes int
	for _, ph := range r.Photos {
		photoBytes += len(ph.JPEG)
	}
	mb := float64(accepted) * float64(photoBytes) / float64(len(r.Photos)) / 1e6
	p("- uploads: %d started, %d accepted in %.1f s: **%.2f uploads/s** (about %.0f MB/s); 503 with Retry-After %d, 429 with Retry-After %d (retried), %d retries cut short by the end of the run, %d given up\n",
		d.Attempts, accepted, secs, float64(accepted)/secs, mb/secs, up.Retried[503], up.Retried[429], up.CutShort, up.GaveUp)
	var reads int
	for _, name := range readRoutes {
		if rs := d.Stats[name]; rs != nil {
			reads += len(rs.OK)
		}
	}
	if r.AliveAfterDrive == nil {
		p("- end to end: %s\n", endToEndText(accepted, d.Elapsed, r.EndToEnd, r.Render))
	}
	p("- reads: %d product pages, %d successful reads: %.0f reads/s\n", d.Pages, reads, float64(reads)/secs)
	if r.AliveAfterDrive == nil {
		p("- rendering drained %.1f s after the run: %d ready, %d failed, %d still pending, %d missing from their product\n",
			r.Render.Elapsed.Seconds(), r.Render.Ready, r.Render.Failed, r.Render.Pending, r.Render.Missing)
	}
	if f := r.Files; f != nil {
		p("- check of every accepted image: %d answered, %d not found, %d originals and %d of %d renditions not served, %d not ready\n",
			f.Images, f.ImageGone, f.OriginalGone, f.RenditionGone, f.Renditions, f.NotReady)
		if f.FirstProblem != "" {
			p("- first problem: %s\n", f.FirstProblem)
		}
	}
	p("- CPU while driven: %s used %.0f s, this client %.0f s, of the %.0f s that %d cores offer in %.1f s (the rest went to other work on the machine, or idled)\n",
		plural(o.nodes, "the server", "the %d servers together"), r.ServerCPU, r.ClientCPU, float64(m.CPUs)*secs, m.CPUs, secs)
	var busy []string
	for name, u := range r.Threads {
		if u.CPU >= 0.05 || u.Wait >= 0.05 {
			busy = append(busy, name)
		}
	}
	sort.Slice(busy, func(i, j int) bool { return r.Threads[busy[i]].CPU > r.Threads[busy[j]].CPU })
	var parts []string
	for _, name := range busy {
		u := r.Threads[name]
		parts = append(parts, fmt.Sprintf("`%s` threads %.1f s of CPU, %.1f s waiting for a core", name, u.CPU, u.Wait))
	}
	p("- %s while driven, by name (waiting: runnable but not running, summed over threads): %s\n",
		plural(o.nodes, "the server's threads", "the threads of the %d servers"), orNone(strings.Join(parts, "; ")))
	p("- %s: VmHWM %s over its whole life; largest VmRSS sampled every 100 ms: %s while driven, %s while rendering the backlog\n",
		plural(o.nodes, "server memory", "server memory, of the largest of the %d processes"), mibK(r.PeakKB), mibK(r.RSSDriveKB), mibK(r.RSSDrainKB))
	if r.StopErr != nil {
		p("- stopping the server: %v\n", r.StopErr)
	}
	p("\n| target | measured | |\n|---|---|---|\n")
	for _, t := range r.Targets {
		result := "PASS"
		switch {
		case !t.OK && t.Advisory:
			result = "missed (not enforced in -short mode)"
		case !t.OK:
			result = "**FAIL**"
		}
		p("| %s | %s | %s |\n", t.Name, t.Value, result)
	}
	p("\n")
}

// nodesText names the servers in the description of the load.
func nodesText(nodes int) string {
	if nodes == 1 {
		return "one `vitrine serve`"
	}
	return fmt.Sprintf("%d `vitrine serve` nodes sharing one database and one storage (uploader and reader i on node i mod %d)", nodes, nodes)
}

// plural returns one when nodes is 1, else many with nodes in its %d.
func plural(nodes int, one, many string) string {
	if nodes == 1 {
		return one
	}
	return fmt.Sprintf(many, nodes)
}

// endToEndText is the rate at which uploads were accepted and rendered:
// the accepted uploads over the time from the start of the drive until
// the last was rendered. The servers accept uploads faster than they
// render them (the backlog drains after the run), so this is the rate
// they sustain.
func endToEndText(accepted int, driven, total time.Duration, res renderResult) string {
	if res.Pending > 0 || res.Missing > 0 {
		return fmt.Sprintf("not measured: %d uploads still pending and %d missing after %.1f s", res.Pending, res.Missing, res.Elapsed.Seconds())
	}
	return fmt.Sprintf("%d accepted uploads were all rendered %.1f s after the drive began (%.1f s driven, then %.1f s; the wait polls every second): **%.2f uploads/s** accepted and rendered",
		accepted, total.Seconds(), driven.Seconds(), (total - driven).Seconds(), float64(accepted)/total.Seconds())
}

func thinkText(think time.Duration) string {
	if think == 0 {
		return "back to back with no pause"
	}
	return fmt.Sprintf("with a pause of 0 to %s (mean %s) between pages", ms(2*think), ms(think))
}

// otherAnswers lists the answers that were not 2xx, by status.
func otherAnswers(rs *routeStats) string {
	var statuses []int
	for s := range rs.Statuses {
		if s < 200 || s >= 300 {
			statuses = append(statuses, s)
		}
	}
	slices.Sort(statuses)
	var parts []string
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d×%d", rs.Statuses[s], s))
	}
	if rs.NetErrs > 0 {
		parts = append(parts, fmt.Sprintf("%d without an answer", rs.NetErrs))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func sortedCopy(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// ms formats a latency in milliseconds, with a decimal below 10 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func mibK(kb int) string {
	if kb == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
