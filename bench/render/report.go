package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The variants of the report, by the key the speed child uses.
var (
	vitrineTM   = variant{"vitrine", setThumbMedium}.String()
	vitrineN3   = variant{"vitrine", setNote3}.String()
	vitrineDef  = variant{"vitrine", setDefault}.String()
	pillowTM    = variant{"pillow", setThumbMedium}.String()
	pillowNote3 = variant{"pillow", setNote3}.String()
)

// speedRow is one file's median times in seconds.
type speedRow struct {
	file                                string
	pillowTM, vitrineTM                 float64
	pillowNote3, vitrineNote3, vitrineD float64
}

// speedRows returns the median of every variant for every file.
func speedRows(s speedResult) []speedRow {
	med := func(key, file string) float64 {
		t := s.Runs[key][file]
		if t == nil {
			return math.NaN()
		}
		return median(t.Seconds)
	}
	var rows []speedRow
	for _, f := range s.Files {
		rows = append(rows, speedRow{
			file:     f,
			pillowTM: med(pillowTM, f), vitrineTM: med(vitrineTM, f),
			pillowNote3: med(pillowNote3, f), vitrineNote3: med(vitrineN3, f), vitrineD: med(vitrineDef, f),
		})
	}
	return rows
}

// writeReport renders the results as Markdown.
func writeReport(res results) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	info := map[string]fileInfo{}
	for _, f := range res.Files {
		info[f.Name] = f
	}
	mp := func(name string) float64 { f := info[name]; return float64(f.Width*f.Height) / 1e6 }

	rows := speedRows(res.Speed)
	var tot speedRow
	var rTM, rN3, rDef []float64
	for _, r := range rows {
		tot.pillowTM += r.pillowTM
		tot.vitrineTM += r.vitrineTM
		tot.pillowNote3 += r.pillowNote3
		tot.vitrineNote3 += r.vitrineNote3
		tot.vitrineD += r.vitrineD
		rTM = append(rTM, r.pillowTM/r.vitrineTM)
		rN3 = append(rN3, r.pillowNote3/r.vitrineNote3)
		rDef = append(rDef, r.pillowNote3/r.vitrineD)
	}
	q := qualityColumns(res.Quality)

	p("# vitrine benchmark: libvips renderer vs the design note's Pillow code\n\n")
	p("Run %s, took %.1f minutes. Command: `%s`.\n\n", res.Started.Format("2006-01-02 15:04 MST"), res.Seconds/60, res.Command)
	p("Every figure is a median (times over %d interleaved rounds, then over files where a row says so) or a ratio of medians; no means.\n\n", res.Speed.Rounds)

	m := res.Machine
	p("## Machine\n\n")
	p("- %d CPUs, %s; memory %s; Linux %s\n", m.CPUs, m.CPUModel, m.Memory, m.Kernel)
	p("- libvips %s; Pillow %s (Python %s, libwebp %s); %s\n", m.Libvips, m.Pillow.Pillow, m.Pillow.Python, m.Pillow.LibWebP, m.Packages)
	p("- %s; MALLOC_ARENA_MAX=%s (exported by the Makefile for every vitrine process)\n", m.Go, orNone(m.MallocArenaMax))
	p("- speed: Go process on CPUs %q with GOMAXPROCS=1 and libvips concurrency 1; Pillow worker %s\n", res.Speed.CPUs, res.Speed.Pillow)
	p("- load average (1, 5, 15 min) at the start %s, at the end %s: anything else running on the machine slows both engines alike within a round, but widens the spread\n\n", m.LoadBefore, m.LoadAfter)

	p("## Summary\n\n")
	p("| measure | the note (Pillow) | vitrine | note / vitrine |\n|---|--:|--:|--:|\n")
	p("| thumbnail + medium, corpus (%d files), one core | %s | %s | %s |\n", len(rows), secs(tot.pillowTM), secs(tot.vitrineTM), ratio(tot.pillowTM/tot.vitrineTM))
	p("| the note's three outputs (+ full-size WebP), one core | %s | %s | %s |\n", secs(tot.pillowNote3), secs(tot.vitrineNote3), ratio(tot.pillowNote3/tot.vitrineNote3))
	p("| the note's pipeline vs vitrine's default set (5 renditions, WebP capped at 2048) | %s | %s | %s |\n", secs(tot.pillowNote3), secs(tot.vitrineD), ratio(tot.pillowNote3/tot.vitrineD))
	p("| per-file ratio, median: thumb+medium / note3 / default | | | %s / %s / %s |\n", ratio(median(rTM)), ratio(median(rN3)), ratio(median(rDef)))
	p("| thumbnail SSIM vs exact Lanczos, median | %.4f | %.4f | |\n", median(q.thumb[1]), median(q.thumb[0]))
	p("| medium SSIM vs exact Lanczos, median | %.4f | %.4f | |\n", median(q.medium[1]), median(q.medium[0]))
	p("| full-size WebP SSIM vs the original, median | %.4f | %.4f | |\n", median(q.webp[1]), median(q.webp[0]))
	p("| full-size WebP bytes, corpus | %s | %s | vitrine %s; median per file %s, %d of %d within 5 %% |\n",
		mib(q.webpBytes[1]), mib(q.webpBytes[0]), pct(float64(q.webpBytes[0])/float64(q.webpBytes[1])-1), pct(median(q.webpDelta)), q.within5, len(q.webpDelta))
	for _, c := range res.Concurrent {
		if c.Set == setNote3 {
			p("| peak RSS, 8 at once on %s, note3 | %s (8 threads) | %s (8 goroutines) | %s |\n", concurrentFile, mibK(res.PillowConc.PeakRSSK), mibK(c.PeakRSSK), ratio(float64(res.PillowConc.PeakRSSK)/float64(c.PeakRSSK)))
		}
	}
	for _, c := range res.Concurrent {
		if c.Set == setDefault {
			p("| peak RSS, 8 at once, vitrine's default set | | %s | |\n", mibK(c.PeakRSSK))
		}
	}
	if first, last, ok := soakEnds(res.Soak); ok {
		p("| soak: VmRSS after %d renders / after %d | | %.2f (%s) | |\n", last.Renders, first.Renders, float64(last.RSSK)/float64(first.RSSK), flatness(first, last))
	}
	if trend, ok := soakTrend(res.Soak); ok {
		p("| soak: median of the last 3 samples / of the first 3 | | %.2f | |\n", trend)
	}
	for _, e := range res.E2E {
		p("| end to end, %d render worker(s): images ready per second (4 clients) | | %.2f | |\n", e.Workers, float64(e.Images)/e.Seconds)
	}
	for _, e := range res.E2E {
		if e.Latency != nil {
			p("| end to end: upload-to-ready, one upload at a time, median of per-file medians | | %s | |\n", msec(medianOfMedians(e.Latency)))
		}
	}
	for _, e := range res.E2E {
		p("| server peak RSS (VmHWM), %d render worker(s) | | %s | |\n", e.Workers, mibK(e.PeakRSSK))
	}
	if b := res.Burst; b != nil {
		p("| server peak RSS, %d simultaneous uploads of %s, %d rounds, %d render workers | | %s | |\n", burstClients, b.Burst, b.BurstRounds, b.Workers, mibK(b.PeakRSSK))
	}
	p("\nnote / vitrine above 1 means vitrine is faster (or smaller).\n\n")

	p("## Speed on one core\n\n")
	p("Median milliseconds per file over %d rounds; each round visits every file and runs the five variants back to back, in reverse order every other round. vitrine is `vips.Renderer.Render` in process (bytes in memory, outputs in memory, a 100 px preview included); the note's code runs in a persistent Python worker that is given the file's bytes and times only the note's functions (opens, decodes, flattening, resizing, encoding into BytesIO).\n\n", res.Speed.Rounds)
	p("| file | MP | note t+m | vitrine t+m | ratio | note note3 | vitrine note3 | ratio | vitrine default | note note3 / vitrine default |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		p("| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.file, mp(r.file),
			msec(r.pillowTM), msec(r.vitrineTM), ratio(r.pillowTM/r.vitrineTM),
			msec(r.pillowNote3), msec(r.vitrineNote3), ratio(r.pillowNote3/r.vitrineNote3),
			msec(r.vitrineD), ratio(r.pillowNote3/r.vitrineD))
	}
	p("| **corpus (sum of medians)** | | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** | **%s** |\n",
		msec(tot.pillowTM), msec(tot.vitrineTM), ratio(tot.pillowTM/tot.vitrineTM),
		msec(tot.pillowNote3), msec(tot.vitrineNote3), ratio(tot.pillowNote3/tot.vitrineNote3),
		msec(tot.vitrineD), ratio(tot.pillowNote3/tot.vitrineD))
	p("| median of per-file ratios | | | | %s | | | %s | | %s |\n\n", ratio(median(rTM)), ratio(median(rN3)), ratio(median(rDef)))
	if res.Speed.Rounds > 1 {
		p("Noise: the median over files of (slowest - fastest round) / median is %s.\n\n", noiseLine(res.Speed))
	}
	if webpShare, ok := pillowWebPShare(res.Speed); ok {
		p("The note's full-size WebP (open, decode, flatten, encode) is %s of its note3 time over the corpus (last round).\n\n", share(webpShare))
	}

	p("## Output bytes\n\n")
	p("The note's outputs, as each engine made them (bytes; the last round's files):\n\n")
	p("| file | original | thumbnail note | vitrine | medium note | vitrine | full WebP note | vitrine | vitrine vs note |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var sums [7]int
	for _, name := range res.Speed.Files {
		pn := renditionMap(res.Speed, pillowNote3, name)
		vn := renditionMap(res.Speed, vitrineN3, name)
		row := []int{info[name].Bytes, pn["thumbnail"].Bytes, vn["thumbnail"].Bytes, pn["medium"].Bytes, vn["medium"].Bytes, pn["full_webp"].Bytes, vn["full_webp"].Bytes}
		for i, n := range row {
			sums[i] += n
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, thousands(row[0]), thousands(row[1]), thousands(row[2]), thousands(row[3]), thousands(row[4]), thousands(row[5]), thousands(row[6]), pct(float64(row[6])/float64(row[5])-1))
	}
	p("| **corpus** | %s | %s | %s | %s | %s | %s | %s | %s |\n\n", thousands(sums[0]), thousands(sums[1]), thousands(sums[2]), thousands(sums[3]), thousands(sums[4]), thousands(sums[5]), thousands(sums[6]), pct(float64(sums[6])/float64(sums[5])-1))
	p("vitrine's default set (bytes):\n\n")
	names := []string{"thumbnail", "medium", "thumbnail_webp", "medium_webp", "large"}
	p("| file | %s | all five | vs original |\n|---|--:|--:|--:|--:|--:|--:|--:|\n", strings.Join(names, " | "))
	var defSums [6]int
	for _, name := range res.Speed.Files {
		d := renditionMap(res.Speed, vitrineDef, name)
		var cells []string
		all := 0
		for i, n := range names {
			cells = append(cells, thousands(d[n].Bytes))
			all += d[n].Bytes
			defSums[i] += d[n].Bytes
		}
		defSums[5] += all
		p("| %s | %s | %s | %s |\n", name, strings.Join(cells, " | "), thousands(all), share(float64(all)/float64(info[name].Bytes)))
	}
	var cells []string
	for _, n := range defSums[:5] {
		cells = append(cells, thousands(n))
	}
	p("| **corpus** | %s | %s | %s |\n\n", strings.Join(cells, " | "), thousands(defSums[5]), share(float64(defSums[5])/float64(sums[0])))

	p("## Quality (SSIM)\n\n")
	p("SSIM as Wang et al. (2004) define it, implemented in `bench/render/ssim.go`: 8-bit luma (Pillow's `convert('L')`, ITU-R 601-2), 11x11 Gaussian window with sigma 1.5, C1 = (0.01x255)^2, C2 = (0.03x255)^2, mean over every window position inside the image (no padding, no downsampling). Every image is decoded by Pillow and composed on white first. Thumbnails and mediums are compared with Pillow's `Image.resize(size, LANCZOS)` of the full decode at exactly the engine's output size; the full-size WebPs with the decoded original.\n\n")
	p("| file | thumbnail note / vitrine | thumb SSIM note | vitrine | medium SSIM note | vitrine | WebP SSIM note | vitrine | WebP bytes note | vitrine | vitrine vs note |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, qf := range res.Quality {
		n, v := qf.Scores["pillow"], qf.Scores["vitrine"]
		p("| %s | %dx%d / %dx%d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %s | %s | %s |\n", qf.Name,
			n["thumbnail"].Width, n["thumbnail"].Height, v["thumbnail"].Width, v["thumbnail"].Height,
			n["thumbnail"].SSIM, v["thumbnail"].SSIM, n["medium"].SSIM, v["medium"].SSIM,
			n["full_webp"].SSIM, v["full_webp"].SSIM,
			thousands(n["full_webp"].Bytes), thousands(v["full_webp"].Bytes), pct(float64(v["full_webp"].Bytes)/float64(n["full_webp"].Bytes)-1))
	}
	p("| **median** | | **%.4f** | **%.4f** | **%.4f** | **%.4f** | **%.4f** | **%.4f** | %s | %s | **%s** |\n\n",
		median(q.thumb[1]), median(q.thumb[0]), median(q.medium[1]), median(q.medium[0]), median(q.webp[1]), median(q.webp[0]),
		thousands(q.webpBytes[1]), thousands(q.webpBytes[0]), pct(median(q.webpDelta)))
	p("Full-size WebP bytes: vitrine within 5 %% of the note's on %d of %d files (the target; reported, not tuned).\n\n", q.within5, len(q.webpDelta))

	p("## Memory\n\n")
	p("Each line is a process of its own; peak RSS is its VmHWM at the end, baseline its VmRSS before rendering (runtime, libraries and the %s original in memory).\n\n", concurrentFile)
	p("| what | how | peak RSS | baseline | wall |\n|---|---|--:|--:|--:|\n")
	for _, c := range res.Concurrent {
		p("| vitrine, %s set | %d goroutines at once, GOMAXPROCS 2, libvips concurrency 1 | %s | %s | %.1f s |\n", c.Set, c.N, mibK(c.PeakRSSK), mibK(c.BaselineRSSK), c.Seconds)
	}
	pc := res.PillowConc
	p("| the note's code, note3 | %d threads in one Python process | %s | %s | %.1f s |\n\n", pc.N, mibK(pc.PeakRSSK), mibK(pc.BaselineRSSK), pc.Seconds)
	s := res.Soak
	p("Soak: %d renders of the default set by %d goroutines (GOMAXPROCS 2), cycling through %d corpus files (held in memory), in %.0f s; MALLOC_ARENA_MAX=%s. VmRSS is sampled after every %d renders with both goroutines idle (what the process kept, not what was in flight); peak RSS over the whole soak %s.\n\n", s.Renders, s.Workers, s.Files, s.Seconds, orNone(s.MallocArenas), soakBatch, mibK(s.PeakRSSK))
	if len(s.Samples) > 0 {
		p("| renders | %s |\n|---|%s\n", joinSamples(s.Samples, func(x soakSample) string { return strconv.Itoa(x.Renders) }), strings.Repeat("--:|", len(s.Samples)))
		p("| VmRSS | %s |\n", joinSamples(s.Samples, func(x soakSample) string { return mibK(x.RSSK) }))
		p("| of which Go, at most | %s |\n\n", joinSamples(s.Samples, func(x soakSample) string { return mibK(x.GoK) }))
	}
	if first, last, ok := soakEnds(s); ok {
		p("Last / first after warm-up (the sample after %d renders): %.2f, %s.", first.Renders, float64(last.RSSK)/float64(first.RSSK), flatness(first, last))
		if trend, ok := soakTrend(s); ok {
			p(" Each sample depends on what the C heap happened to keep, so the median of the last three samples over the median of the first three, %.2f, says more about a trend.", trend)
		}
		p("\n\n")
	}

	p("## End to end\n\n")
	p("`bin/vitrine serve` on a loopback port with a fresh data directory (SQLite, local media), VITRINE_MAX_UPLOAD_BYTES=33554432 and VITRINE_RENDER_WORKERS=N, everything else default (the default renditions; River polls for jobs every 100 ms). A client POSTs the file as multipart to `/api/products/{slug}/images/` and GETs `/api/products/{slug}/images/{id}/` every %d ms until `status` is `ready`; the time is from the start of the upload to that answer.\n\n", pollEvery.Milliseconds())
	for _, e := range res.E2E {
		if e.Latency == nil {
			continue
		}
		p("Upload-to-ready latency, one upload at a time, %d render workers (median, min and max over %d rounds):\n\n", e.Workers, len(e.Latency[res.Files[0].Name]))
		p("| file | MP | bytes | median | min | max |\n|---|--:|--:|--:|--:|--:|\n")
		for _, f := range res.Files {
			l := e.Latency[f.Name]
			p("| %s | %.1f | %s | %s | %s | %s |\n", f.Name, mp(f.Name), thousands(f.Bytes), msec(median(l)), msec(slices.Min(l)), msec(slices.Max(l)))
		}
		p("| **median of medians** | | | **%s** | | |\n\n", msec(medianOfMedians(e.Latency)))
	}
	p("Throughput: the corpus uploaded %d times by %d concurrent clients, each waiting for its image to be ready before uploading the next:\n\n", len(res.E2E[0].Latencies)/max(len(res.Files), 1), e2eClients)
	p("| render workers | images | wall | images ready / s | latency median | latency p90 | server peak RSS |\n|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, e := range res.E2E {
		p("| %d | %d | %.1f s | %.2f | %s | %s | %s |\n", e.Workers, e.Images, e.Seconds, float64(e.Images)/e.Seconds, msec(median(e.Latencies)), msec(percentile(e.Latencies, 0.9)), mibK(e.PeakRSSK))
	}
	if b := res.Burst; b != nil {
		p("\nBurst: %d clients upload %s (14.7 MP) at the same moment and wait for their images, %d rounds, on a fresh server with %d render workers; the uploads queue durably behind the workers. Upload-to-ready median %s, p90 %s, %.2f images ready / s, server peak RSS (VmHWM) **%s**.\n", burstClients, b.Burst, b.BurstRounds, b.Workers, msec(median(b.Latencies)), msec(percentile(b.Latencies, 0.9)), float64(b.Images)/b.Seconds, mibK(b.PeakRSSK))
	}
	p("\n## Notes\n\n")
	p("- The note's code is `bench/note_pillow.py`, written as the note has it: `generate_thumbnails` reopens the original for each size, flattens RGBA/LA/P onto white, `thumbnail()` with LANCZOS (which lets libjpeg-turbo decode JPEGs at a reduced scale), JPEG q85 and q90; `optimize_product_image` opens the original, flattens it and saves WebP quality=85 optimize=True. In the note the Celery task replaces the original with that WebP and then calls `generate_thumbnails`, which then decodes the WebP; here, as the brief asks, all three start from the original.\n")
	p("- vitrine's `note3` is the note's two JPEG specs plus a WebP q85 spec whose box is the original's size; `default` is `vitrine.DefaultSpecs()`. vitrine decodes once, shrunk on load, converts embedded ICC profiles to sRGB (Pillow ignores them; the corpus's only profile, patak's, is sRGB itself) and keeps alpha in WebP, where the note flattens it (SSIM composes both on white).\n")
	p("- Memory: the Pillow comparison uses threads, as one Celery worker process with a thread pool would; prefork processes would add one interpreter per task on top.\n")
	p("- Raw numbers: `results.json` beside this report; server logs `server-workers*.log`.\n")
	return b.String()
}

// qualityStats are the quality columns gathered over files; index 0 is
// vitrine, 1 the note.
type qualityStats struct {
	thumb, medium, webp [2][]float64
	webpBytes           [2]int
	webpDelta           []float64 // vitrine's full WebP bytes / the note's - 1
	within5             int
}

func qualityColumns(qs []qualityFile) qualityStats {
	var s qualityStats
	for _, qf := range qs {
		for i, engine := range []string{"vitrine", "pillow"} {
			sc := qf.Scores[engine]
			s.thumb[i] = append(s.thumb[i], sc["thumbnail"].SSIM)
			s.medium[i] = append(s.medium[i], sc["medium"].SSIM)
			s.webp[i] = append(s.webp[i], sc["full_webp"].SSIM)
			s.webpBytes[i] += sc["full_webp"].Bytes
		}
		d := float64(qf.Scores["vitrine"]["full_webp"].Bytes)/float64(qf.Scores["pillow"]["full_webp"].Bytes) - 1
		s.webpDelta = append(s.webpDelta, d)
		if math.Abs(d) <= 0.05 {
			s.within5++
		}
	}
	return s
}

// renditionMap returns a variant's renditions on a file by name.
func renditionMap(s speedResult, key, file string) map[string]rendition {
	m := map[string]rendition{}
	if t := s.Runs[key][file]; t != nil {
		for _, r := range t.Renditions {
			m[r.Name] = r
		}
	}
	return m
}

// noiseLine describes how much the rounds of each variant disagree.
func noiseLine(s speedResult) string {
	var parts []string
	for _, v := range variants {
		var spreads []float64
		for _, t := range s.Runs[v.String()] {
			spreads = append(spreads, (slices.Max(t.Seconds)-slices.Min(t.Seconds))/median(t.Seconds))
		}
		parts = append(parts, fmt.Sprintf("%s %s", v, share(median(spreads))))
	}
	return strings.Join(parts, ", ")
}

// pillowWebPShare is the note's full-size WebP time over its note3 time,
// summed over the corpus.
func pillowWebPShare(s speedResult) (float64, bool) {
	var webp, all float64
	for _, t := range s.Runs[pillowNote3] {
		for _, r := range t.Renditions {
			all += r.Seconds
			if r.Name == "full_webp" {
				webp += r.Seconds
			}
		}
	}
	return webp / all, all > 0
}

// soakEnds returns the first sample after warm-up and
// the last one.
//
// The first fifth of the run is warm-up: Go's heap grows to its working
// size there (the "of which Go" row), so the comparison starts after it.
func soakEnds(s soakResult) (first, last soakSample, ok bool) {
	if len(s.Samples) < 2 {
		return first, last, false
	}
	return s.Samples[len(s.Samples)/5], s.Samples[len(s.Samples)-1], true
}

// soakTrend compares the median VmRSS of the last three samples with that
// of the first three: steadier than two single samples.
func soakTrend(s soakResult) (float64, bool) {
	n := len(s.Samples)
	if n < 6 {
		return 0, false
	}
	rss := func(ss []soakSample) float64 {
		var xs []float64
		for _, x := range ss {
			xs = append(xs, float64(x.RSSK))
		}
		return median(xs)
	}
	return rss(s.Samples[n-3:]) / rss(s.Samples[:3]), true
}

func flatness(first, last soakSample) string {
	if math.Abs(float64(last.RSSK)/float64(first.RSSK)-1) <= 0.10 {
		return "flat (within 10 %)"
	}
	return "NOT flat (more than 10 % apart)"
}

func joinSamples(ss []soakSample, f func(soakSample) string) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, f(s))
	}
	return strings.Join(parts, " | ")
}

func medianOfMedians(m map[string][]float64) float64 {
	var meds []float64
	for _, xs := range m {
		meds = append(meds, median(xs))
	}
	return median(meds)
}

// median returns the middle value (the mean of the two middle ones for an
// even count), NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile returns the nearest-rank p-quantile (0 < p <= 1).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func secs(s float64) string  { return fmt.Sprintf("%.2f s", s) }
func msec(s float64) string  { return fmt.Sprintf("%.0f ms", s*1000) }
func ratio(r float64) string { return fmt.Sprintf("%.2fx", r) }
func pct(f float64) string   { return fmt.Sprintf("%+.1f %%", f*100) }
func share(f float64) string { return fmt.Sprintf("%.1f %%", f*100) }
func mibK(kb int) string     { return fmt.Sprintf("%.0f MiB", float64(kb)/1024) }
func mib(b int) string       { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func orNone(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

// thousands writes n with comma separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
