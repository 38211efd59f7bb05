package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/blob/blobtest"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

// The chaos test's knobs. Each kill comes a random 50-700 ms after the
// previous node was ready, while the clients keep sending.
const (
	chaosKills    = 25
	chaosClients  = 3
	chaosMinDelay = 50 * time.Millisecond
	chaosMaxDelay = 700 * time.Millisecond
	// chaosMaxGallery keeps galleries under the per-product cap (50), so
	// that a bulk upload is all or nothing.
	chaosMaxGallery = 30
)

// TestChaos kills vitrine serve with SIGKILL at random points while
// clients upload, bulk upload, replace and delete, restarts it each time,
// and then checks that a crash loses nothing and leaks nothing: every row
// points to files that exist, every image becomes ready, every stored file
// is referenced or is one a kill left and the sweep removes, no rendition
// is stored twice, and everything a client was told about (a 2xx) is there
// unless a later 2xx removed it. A request the kill cut may have happened
// or not, but wholly: a bulk upload is all there or not at all.
//
// It runs on SQLite and local files, and on PostgreSQL and S3 when
// VITRINE_TEST_POSTGRES_URL and VITRINE_TEST_S3_URL are set (make
// test-chaos starts an S3 server). VITRINE_CHAOS_SEED replays the requests
// and kill delays of a logged seed; where the kills land still depends on
// timing.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos test kills and restarts vitrine 25 times per shape, about a minute each; make test-chaos runs it")
	}
	seed := rand.Uint64()
	if s := os.Getenv("VITRINE_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("VITRINE_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (VITRINE_CHAOS_SEED=%d replays it)", seed, seed)
	bin := filepath.Join(t.TempDir(), "vitrine")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The shapes run one after the other, not in parallel: each keeps both
	// cores of a small machine busy, and the kills should land where the
	// server's own timing puts them.
	t.Run("sqlite-local", func(t *testing.T) {
		dir := chaosWorkDir(t)
		data := filepath.Join(dir, "data")
		runChaos(t, chaosSetup{
			bin: bin, seed: seed, dir: dir,
			dsn: "sqlite:" + filepath.Join(data, "vitrine.db"),
			env: []string{"VITRINE_DATA_DIR=" + data},
			openFiles: func(t *testing.T) chaosFiles {
				local, err := blob.NewLocal(filepath.Join(data, "media"), "")
				if err != nil {
					t.Fatal(err)
				}
				return local
			},
		})
	})
	t.Run("postgres-s3", func(t *testing.T) {
		if os.Getenv(sqldbtest.PostgresEnv) == "" || os.Getenv("VITRINE_TEST_S3_URL") == "" {
			t.Skipf("needs PostgreSQL (%s) and S3 (VITRINE_TEST_S3_URL): make test-chaos starts an S3 server; CI sets both", sqldbtest.PostgresEnv)
		}
		dir := chaosWorkDir(t)
		dsn := sqldbtest.DSN(t)
		storage := blobtest.S3URL(t)
		runChaos(t, chaosSetup{
			bin: bin, seed: seed + 1, dir: dir, dsn: dsn,
			env: []string{
				"VITRINE_DATA_DIR=" + filepath.Join(dir, "data"),
				"VITRINE_DATABASE_URL=" + dsn,
				"VITRINE_STORAGE_URL=" + storage,
			},
			openFiles: func(t *testing.T) chaosFiles { return openTestS3(t, storage) },
		})
	})
}

// chaosWorkDir returns a directory for one shape's data and logs. It is
// kept when the test fails, so that what the kills left can be looked at.
func chaosWorkDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "vitrine-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s: the server log (serve.log) and, on SQLite, the data", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// chaosFiles is what the test reads of the file store: *blob.Local and
// *blob.S3 both are one.
type chaosFiles interface {
	List(ctx context.Context, fn func(key string, modified time.Time) error) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// chaosSetup is one deployment shape.
type chaosSetup struct {
	bin       string
	seed      uint64
	dir       string   // work directory: the log, and SQLite's data
	dsn       string   // the database the nodes use
	env       []string // the shape's VITRINE_* settings
	openFiles func(t *testing.T) chaosFiles
}

func runChaos(t *testing.T, s chaosSetup) {
	ctx := context.Background()
	env := append(os.Environ(), s.env...)
	env = append(env,
		"VITRINE_RENDER_WORKERS=2",
		"VITRINE_POLL_INTERVAL=50ms",
		// A job left running by a killed node is retried after this long
		// (River's rescuer, on the node that holds the leadership).
		"VITRINE_JOB_TIMEOUT=5s",
		"VITRINE_JOB_RESCUE_AFTER=6s",
		// The test runs the sweep itself, once everything settled, to see
		// what the kills left.
		"VITRINE_SWEEP_INTERVAL=0",
		"VITRINE_RATE_LIMIT_TOKEN=0",
		"VITRINE_RATE_LIMIT_IP=0",
	)
	cmdOut := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(s.bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("vitrine %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
		}
		return string(out)
	}
	cmdOut("migrate")
	token := strings.TrimSpace(cmdOut("token", "create", "--user", "chaos"))

	pool, err := sqldb.Open(ctx, s.dsn, sqldb.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	jobs := newChaosJobs(t, pool)

	c := &chaos{
		t:       t,
		bin:     s.bin,
		env:     env,
		logPath: filepath.Join(s.dir, "serve.log"),
		token:   token,
		http: &http.Client{
			Timeout: time.Minute,
			// A fresh connection per request: a refused connection then
			// proves that the request never reached a server.
			Transport: &http.Transport{DisableKeepAlives: true},
		},
		byDims: map[[2]int]*chaosFile{},
		byUUID: map[string]int64{},
		stats:  map[string]*chaosOpStats{},
	}
	c.start()

	rng := rand.New(rand.NewPCG(s.seed, 0))
	for range 4 {
		p := c.createProduct(ctx, rng)
		if p.exists != yes {
			t.Fatalf("creating product %s with no kill under way: %v", p.slug, p.exists)
		}
	}

	// The chaos: clients send requests while the node is killed and
	// restarted chaosKills times.
	began := time.Now()
	clientCtx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range chaosClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.runClient(clientCtx, rand.New(rand.NewPCG(s.seed, uint64(i+1))))
		}()
	}
	var renderKills, requestKills int
	for kill := 1; kill <= chaosKills; kill++ {
		delay := chaosMinDelay + time.Duration(rng.Int64N(int64(chaosMaxDelay-chaosMinDelay)))
		time.Sleep(delay) // the chaos itself: a kill at a random moment, not a wait for a condition
		renders := countRows(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'render_image' AND state = 'running'`)
		inFlight := c.inFlight.Load()
		if renders > 0 {
			renderKills++
		}
		if inFlight > 0 {
			requestKills++
		}
		c.kill(fmt.Sprintf("kill %d after %s: %d renders running, %d requests in flight", kill, delay.Round(time.Millisecond), renders, inFlight))
		if kill < chaosKills {
			c.start()
		}
	}
	stopClients()
	wg.Wait()
	chaosTime := time.Since(began)

	// The last start: everything pending must become ready.
	began = time.Now()
	c.start()
	pulled := jobs.settle(t, pool)
	if err := c.node.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.node.done:
		if err != nil {
			t.Errorf("the last node's graceful stop: %v (see %s)", err, c.logPath)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the last node did not stop within a minute of SIGTERM (see %s)", c.logPath)
	}
	settleTime := time.Since(began)

	began = time.Now()
	files := s.openFiles(t)
	db := sqldb.New(pool, nil)
	orphans := c.checkStorage(ctx, db, files, jobs.renders(t))
	c.checkSweep(ctx, db, files, orphans)
	c.checkModel(ctx, db)
	jobs.checkFinished(t)
	if left, _ := filepath.Glob(filepath.Join(s.dir, "data", "tmp", "upload-*")); len(left) > 0 {
		t.Errorf("temporary uploads left after the last start: %v", left)
	}

	t.Logf("%d kills (%d with a render running, %d with requests in flight) in %s; settled in %s (%d retries moved forward); checked in %s",
		chaosKills, renderKills, requestKills, chaosTime.Round(time.Millisecond), settleTime.Round(time.Millisecond), pulled,
		time.Since(began).Round(time.Millisecond))
	c.logStats()
	t.Logf("files: %d sent; orphans the kills left and the sweep removed: %d originals, %d renditions (%d after an interrupted render, %d of unknown images), %d half-written",
		len(c.files), orphans.originals, orphans.renditions, orphans.interrupted, orphans.unattributed, orphans.temp)
}

// countRows runs a count query over the shape's database.
func countRows(t *testing.T, pool *sqldb.Pool, query string) int {
	t.Helper()
	var n int
	if err := pool.Read.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// tri is what the client knows of something's existence.
type tri int

const (
	no tri = iota
	yes
	maybe // a request that would change it was cut by a kill
)

func (v tri) String() string { return [...]string{"no", "yes", "maybe"}[v] }

// fate is how a request ended.
type fate int

const (
	unsent   fate = iota // the test ended before a node took it
	answered             // a status came back
	cut                  // the kill cut the connection: it may have happened or not
)

// chaosRequest is one request the clients sent, with its outcome.
type chaosRequest struct {
	op     string
	fate   fate
	status int
}

func (r *chaosRequest) String() string {
	switch r.fate {
	case unsent:
		return r.op + " (never sent)"
	case cut:
		return r.op + " (cut by a kill)"
	}
	return fmt.Sprintf("%s (answered %d)", r.op, r.status)
}

// chaosFile is one image file the clients sent. Every file has a width
// and height no other file has, so that a row or a stored file leads back
// to the request that sent it.
type chaosFile struct {
	n      int
	w, h   int
	slug   string // the product it was sent to
	single bool   // the product's single image, not a gallery image
	req    *chaosRequest
}

// chaosProduct is what the clients were told about one product. Requests
// on one product run one at a time (mu is held across them), so every
// answer can be checked against the ones before it.
type chaosProduct struct {
	mu     sync.Mutex
	slug   string
	exists tri
	// single holds the files the single image may be (0: none). It has more
	// than one element only after a cut request.
	single map[int]bool
	// gallery is every gallery file sent to the product that may exist.
	gallery map[int]*galleryEntry
	// groups are the files of cut uploads not seen since: each must be
	// wholly there or wholly absent.
	groups [][]int
}

type galleryEntry struct {
	id    int64 // 0 until an answer shows it
	state tri
}

// chaos is one run: the node being killed, the clients' model of what
// they were told, and what the test counts.
type chaos struct {
	t       *testing.T
	bin     string
	env     []string
	logPath string
	token   string
	http    *http.Client

	// node is the running process, and up is closed while it serves.
	mu   sync.Mutex
	node *node
	up   chan struct{}

	inFlight atomic.Int64

	// The model, and every file sent, by number (from 1) and by size.
	modelMu  sync.Mutex
	products []*chaosProduct
	nextSlug int
	files    []*chaosFile
	byDims   map[[2]int]*chaosFile
	byUUID   map[string]int64 // the image id of an original's UUID, when an answer showed it

	statsMu  sync.Mutex
	stats    map[string]*chaosOpStats
	problems int
}

// chaosOpStats counts the outcomes of one kind of request.
type chaosOpStats struct {
	sent, cut, refused, unsent int
	status                     map[int]int
}

// start starts a node and publishes its address to the clients.
func (c *chaos) start() {
	c.t.Helper()
	n := startNode(c.t, c.bin, c.env, c.logPath)
	c.mu.Lock()
	c.node = n
	if c.up == nil {
		c.up = make(chan struct{})
	}
	close(c.up)
	c.mu.Unlock()
}

// kill stops the node with SIGKILL and notes why in its log.
func (c *chaos) kill(note string) {
	c.t.Helper()
	c.mu.Lock()
	n := c.node
	c.up = make(chan struct{}) // clients wait for the next node
	c.mu.Unlock()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		c.t.Fatal("a killed node did not exit")
	}
	if f, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND, 0); err == nil {
		fmt.Fprintf(f, "=== chaos: %s\n", note)
		f.Close()
	}
}

// current returns the node's base URL and a channel closed while it serves.
func (c *chaos) current() (string, chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node.base, c.up
}

// problem reports a broken promise; the first 40 are printed in full.
func (c *chaos) problem(format string, args ...any) {
	c.statsMu.Lock()
	c.problems++
	n := c.problems
	c.statsMu.Unlock()
	switch {
	case n <= 40:
		c.t.Errorf(format, args...)
	case n == 41:
		c.t.Error("more problems follow; only the first 40 are shown")
	default:
		c.t.Fail()
	}
}

// answer is what came back for a request.
type answer struct {
	fate   fate
	status int
	body   []byte
}

// send sends a request to whichever node serves, waiting while none does.
// A refused connection never reached a node, so it is sent again to the
// next; a request cut by a kill is not, since it may have happened.
func (c *chaos) send(ctx context.Context, op, method, urlPath, ctype string, body []byte) answer {
	st := c.opStats(op)
	for {
		base, up := c.current()
		select {
		case <-up:
		case <-ctx.Done():
			c.count(func() { st.unsent++ })
			return answer{fate: unsent}
		}
		req, err := http.NewRequest(method, base+urlPath, bytes.NewReader(body))
		if err != nil {
			c.t.Error(err)
			return answer{fate: unsent}
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		c.inFlight.Add(1)
		resp, err := c.http.Do(req)
		c.inFlight.Add(-1)
		if errors.Is(err, syscall.ECONNREFUSED) {
			c.count(func() { st.refused++ })
			continue
		}
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			c.problem("%s %s: no answer within a minute", method, urlPath)
		}
		if err != nil {
			c.count(func() { st.sent++; st.cut++ })
			return answer{fate: cut}
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			// The status came back, so the request happened (handlers
			// answer after their commit), but the body is partial.
			data = nil
		}
		c.count(func() { st.sent++; st.status[resp.StatusCode]++ })
		return answer{fate: answered, status: resp.StatusCode, body: data}
	}
}

func (c *chaos) opStats(op string) *chaosOpStats {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	st := c.stats[op]
	if st == nil {
		st = &chaosOpStats{status: map[int]int{}}
		c.stats[op] = st
	}
	return st
}

func (c *chaos) count(fn func()) {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	fn()
}

func (c *chaos) logStats() {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	ops := make([]string, 0, len(c.stats))
	var sent, cuts, refused int
	for op, st := range c.stats {
		ops = append(ops, op)
		sent += st.sent
		cuts += st.cut
		refused += st.refused
	}
	slices.Sort(ops)
	c.t.Logf("%d requests sent: %d answered, %d cut by a kill; %d refused while no node served (sent again)", sent, sent-cuts, cuts, refused)
	for _, op := range ops {
		st := c.stats[op]
		codes := make([]int, 0, len(st.status))
		for code := range st.status {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		var parts []string
		for _, code := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", st.status[code], code))
		}
		c.t.Logf("  %-22s %4d sent, %3d cut, answers %s", op, st.sent, st.cut, strings.Join(parts, " "))
	}
}

// runClient sends random requests until ctx ends.
func (c *chaos) runClient(ctx context.Context, rng *rand.Rand) {
	for ctx.Err() == nil {
		live := c.liveProducts()
		if len(live) < 4 || len(live) < 10 && rng.IntN(100) < 5 {
			c.createProduct(ctx, rng)
			continue
		}
		p := live[rng.IntN(len(live))]
		p.mu.Lock()
		if p.exists != no {
			c.productOp(ctx, rng, p, len(live))
		}
		p.mu.Unlock()
	}
}

// liveProducts returns the products that may exist. A product another
// client is busy with counts as live; the caller checks again under its
// lock. (Waiting for that lock here, under modelMu, could deadlock with a
// client that holds it and needs modelMu.)
func (c *chaos) liveProducts() []*chaosProduct {
	c.modelMu.Lock()
	defer c.modelMu.Unlock()
	var live []*chaosProduct
	for _, p := range c.products {
		if !p.mu.TryLock() {
			live = append(live, p)
			continue
		}
		if p.exists != no {
			live = append(live, p)
		}
		p.mu.Unlock()
	}
	return live
}

// newFile registers a new file for slug, with a size no other file has
// (sides of 300 to 1500 px, mostly under 900, so that renders take a
// while), and returns it with its bytes: a JPEG, or now and then a PNG.
func (c *chaos) newFile(rng *rand.Rand, slug string, single bool) (*chaosFile, []byte, string) {
	maxSide := 900
	if rng.IntN(100) < 25 {
		maxSide = 1500
	}
	c.modelMu.Lock()
	var w, h int
	for {
		w, h = 300+rng.IntN(maxSide-299), 300+rng.IntN(maxSide-299)
		if c.byDims[[2]int{w, h}] == nil {
			break
		}
	}
	f := &chaosFile{n: len(c.files) + 1, w: w, h: h, slug: slug, single: single, req: &chaosRequest{}}
	c.files = append(c.files, f)
	c.byDims[[2]int{w, h}] = f
	c.modelMu.Unlock()
	asPNG := w*h <= 600_000 && rng.IntN(100) < 20
	name := fmt.Sprintf("chaos-%d.jpg", f.n)
	if asPNG {
		name = fmt.Sprintf("chaos-%d.png", f.n)
	}
	return f, chaosPhoto(c.t, w, h, f.n, asPNG), name
}

// chaosPhoto draws a w x h picture with some detail, so that encoding it
// is real work.
func chaosPhoto(t *testing.T, w, h, seed int, asPNG bool) []byte {
	var buf bytes.Buffer
	if asPNG {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.SetNRGBA(x, y, color.NRGBA{uint8(x*255/w + seed), uint8(y*255/h ^ x), uint8((x*y)>>6 + seed*7), 255})
			}
		}
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
			t.Error(err)
		}
		return buf.Bytes()
	}
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		row := img.Y[y*img.YStride:]
		for x := range w {
			row[x] = uint8(x*3+y*5+seed*7) ^ uint8((x*y)>>7)
		}
	}
	for y := range (h + 1) / 2 {
		for x := range (w + 1) / 2 {
			img.Cb[y*img.CStride+x] = uint8(64 + (x*128)/w + seed)
			img.Cr[y*img.CStride+x] = uint8(64 + (y*128)/h + seed*3)
		}
	}
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Error(err)
	}
	return buf.Bytes()
}

// formPart is one part of a multipart body: a field, or a file when name is set.
type formPart struct {
	field, name string
	data        []byte
}

func multipartBody(parts ...formPart) ([]byte, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		if p.name != "" {
			w, _ = mw.CreateFormFile(p.field, p.name)
		} else {
			w, _ = mw.CreateFormField(p.field)
		}
		w.Write(p.data)
	}
	mw.Close()
	return body.Bytes(), mw.FormDataContentType()
}

// productJSON and imageJSON are the parts of the API's answers the test reads.
type chaosProductJSON struct {
	Slug        string           `json:"slug"`
	ImageWidth  *int             `json:"image_width"`
	ImageHeight *int             `json:"image_height"`
	Images      []chaosImageJSON `json:"images"`
}

type chaosImageJSON struct {
	ID     int64  `json:"id"`
	Image  string `json:"image"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// noteImage records the UUID of an image's original, read from its URL.
func (c *chaos) noteImage(id int64, key string) {
	if i := strings.Index(key, "products/"); i >= 0 {
		key = key[i:]
	}
	if k, ok := parseChaosKey(key); ok && k.dir == "" {
		c.modelMu.Lock()
		c.byUUID[k.uuid] = id
		c.modelMu.Unlock()
	}
}

// createProduct creates a product with a new slug, half of the time with
// its single image, and adds it to the model.
func (c *chaos) createProduct(ctx context.Context, rng *rand.Rand) *chaosProduct {
	c.modelMu.Lock()
	c.nextSlug++
	slug := fmt.Sprintf("chaos-%d", c.nextSlug)
	c.modelMu.Unlock()
	p := &chaosProduct{slug: slug, single: map[int]bool{0: true}, gallery: map[int]*galleryEntry{}}
	var body []byte
	var ctype string
	var f *chaosFile
	if rng.IntN(2) == 0 {
		var data []byte
		var name string
		f, data, name = c.newFile(rng, slug, true)
		body, ctype = multipartBody(formPart{field: "name", data: []byte("Chaos " + slug)},
			formPart{field: "slug", data: []byte(slug)}, formPart{field: "price", data: []byte("9.99")},
			formPart{field: "image", name: name, data: data})
		p.single = map[int]bool{f.n: true}
	} else {
		body, ctype = []byte(fmt.Sprintf(`{"name": "Chaos %s", "slug": %q, "price": "9.99"}`, slug, slug)), "application/json"
	}
	a := c.send(ctx, "create product", "POST", "/api/products/", ctype, body)
	if f != nil {
		c.record(f, "create product", a)
	}
	switch {
	case a.fate == unsent:
		p.exists = no
	case a.fate == cut:
		p.exists = maybe
	case a.status == http.StatusCreated:
		p.exists = yes
		if f != nil && a.body != nil {
			c.checkSingleAnswer(p, f, a.body)
		}
	default:
		c.problem("create product %s: got %d, want 201: %s", slug, a.status, a.body)
		p.exists = maybe
	}
	c.modelMu.Lock()
	c.products = append(c.products, p)
	c.modelMu.Unlock()
	return p
}

// record records how the request that sent f ended.
func (c *chaos) record(f *chaosFile, op string, a answer) {
	c.modelMu.Lock()
	defer c.modelMu.Unlock()
	*f.req = chaosRequest{op: op, fate: a.fate, status: a.status}
}

func (c *chaos) checkSingleAnswer(p *chaosProduct, f *chaosFile, body []byte) {
	var got chaosProductJSON
	if err := json.Unmarshal(body, &got); err != nil {
		c.problem("product %s: %v: %s", p.slug, err, body)
		return
	}
	if got.ImageWidth == nil || got.ImageHeight == nil || *got.ImageWidth != f.w || *got.ImageHeight != f.h {
		c.problem("product %s: got image size %v x %v, want %d x %d", p.slug, got.ImageWidth, got.ImageHeight, f.w, f.h)
	}
}

// productOp sends one random request about p, whose lock the caller holds.
func (c *chaos) productOp(ctx context.Context, rng *rand.Rand, p *chaosProduct, live int) {
	var known []*galleryEntry
	present := 0
	for _, e := range p.gallery {
		if e.state != no {
			present++
			if e.id != 0 {
				known = append(known, e)
			}
		}
	}
	slices.SortFunc(known, func(a, b *galleryEntry) int { return int(a.id - b.id) })
	r := rng.IntN(100)
	switch {
	case r < 12:
		c.readProduct(ctx, p)
	case r < 16 && live > 4:
		c.deleteProduct(ctx, p)
	case r < 30 && len(known) > 0, present >= chaosMaxGallery && len(known) > 0:
		c.deleteImage(ctx, p, known[rng.IntN(len(known))])
	case r < 33 && len(known) > 0:
		c.putImageFile(ctx, rng, p, known[rng.IntN(len(known))])
	case r < 55 && present < chaosMaxGallery:
		c.uploadImage(ctx, rng, p)
	case r < 67 && present < chaosMaxGallery-4:
		c.bulkUpload(ctx, rng, p)
	case r < 90:
		c.replaceSingle(ctx, rng, p)
	case r < 96:
		c.deleteSingle(ctx, p)
	default:
		c.readProduct(ctx, p)
	}
}

// gone handles a 404 about p: it is right only if p may have been
// deleted (resolve says so otherwise).
func (c *chaos) gone(p *chaosProduct, op string) {
	c.resolve(p, productView{}, op+" (404)")
}

// uploadImage adds one gallery image.
func (c *chaos) uploadImage(ctx context.Context, rng *rand.Rand, p *chaosProduct) {
	const op = "upload image"
	f, data, name := c.newFile(rng, p.slug, false)
	parts := []formPart{{field: "image", name: name, data: data}, {field: "alt_text", data: []byte(name)}}
	if rng.IntN(5) == 0 {
		parts = append(parts, formPart{field: "is_primary", data: []byte("true")})
	}
	body, ctype := multipartBody(parts...)
	a := c.send(ctx, op, "POST", "/api/products/"+p.slug+"/images/", ctype, body)
	c.record(f, op, a)
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		p.gallery[f.n] = &galleryEntry{state: maybe}
		p.groups = append(p.groups, []int{f.n})
	case a.status == http.StatusCreated:
		p.exists = yes
		e := &galleryEntry{state: yes}
		p.gallery[f.n] = e
		var img chaosImageJSON
		if a.body != nil {
			if err := json.Unmarshal(a.body, &img); err != nil || img.Width != f.w || img.Height != f.h {
				c.problem("%s to %s: got %+v (%v), want an image of %d x %d", op, p.slug, img, err, f.w, f.h)
			}
			e.id = img.ID
			c.noteImage(img.ID, img.Image)
		}
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s to %s: got %d, want 201: %s", op, p.slug, a.status, a.body)
		p.gallery[f.n] = &galleryEntry{state: maybe}
		p.groups = append(p.groups, []int{f.n})
	}
}

// bulkUpload adds 2 to 4 gallery images in one request.
func (c *chaos) bulkUpload(ctx context.Context, rng *rand.Rand, p *chaosProduct) {
	const op = "bulk upload"
	var files []*chaosFile
	var parts []formPart
	for range 2 + rng.IntN(3) {
		f, data, name := c.newFile(rng, p.slug, false)
		files = append(files, f)
		parts = append(parts, formPart{field: "images", name: name, data: data})
	}
	body, ctype := multipartBody(parts...)
	a := c.send(ctx, op, "POST", "/api/products/"+p.slug+"/images/bulk_upload/", ctype, body)
	var group []int
	for _, f := range files {
		c.record(f, op, a)
		group = append(group, f.n)
	}
	maybeAll := func() {
		for _, f := range files {
			p.gallery[f.n] = &galleryEntry{state: maybe}
		}
		p.groups = append(p.groups, group)
	}
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		maybeAll()
	case a.status == http.StatusCreated:
		p.exists = yes
		for _, f := range files {
			p.gallery[f.n] = &galleryEntry{state: yes}
		}
		if a.body == nil {
			return
		}
		var got struct {
			Uploaded int              `json:"uploaded"`
			Images   []chaosImageJSON `json:"images"`
		}
		if err := json.Unmarshal(a.body, &got); err != nil || got.Uploaded != len(files) || len(got.Images) != len(files) {
			c.problem("%s of %d files to %s: got %s (%v), want every file uploaded", op, len(files), p.slug, a.body, err)
			return
		}
		for i, img := range got.Images {
			if img.Width != files[i].w || img.Height != files[i].h {
				c.problem("%s to %s: image %d is %d x %d, want %d x %d", op, p.slug, i, img.Width, img.Height, files[i].w, files[i].h)
			}
			p.gallery[files[i].n].id = img.ID
			c.noteImage(img.ID, img.Image)
		}
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s to %s: got %d, want 201: %s", op, p.slug, a.status, a.body)
		maybeAll()
	}
}

// replaceSingle replaces the product's single image through upload_image
// (POST or PUT) or a PATCH of the product.
func (c *chaos) replaceSingle(ctx context.Context, rng *rand.Rand, p *chaosProduct) {
	f, data, name := c.newFile(rng, p.slug, true)
	method, urlPath, op := "POST", "/api/products/"+p.slug+"/upload_image/", "upload_image POST"
	switch rng.IntN(3) {
	case 1:
		method, op = "PUT", "upload_image PUT"
	case 2:
		method, urlPath, op = "PATCH", "/api/products/"+p.slug+"/", "product PATCH image"
	}
	body, ctype := multipartBody(formPart{field: "image", name: name, data: data})
	a := c.send(ctx, op, method, urlPath, ctype, body)
	c.record(f, op, a)
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		p.single[f.n] = true
	case a.status == http.StatusOK:
		p.exists = yes
		p.single = map[int]bool{f.n: true}
		if a.body != nil {
			c.checkSingleAnswer(p, f, a.body)
		}
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s on %s: got %d, want 200: %s", op, p.slug, a.status, a.body)
		p.single[f.n] = true
	}
}

// deleteSingle deletes the product's single image.
func (c *chaos) deleteSingle(ctx context.Context, p *chaosProduct) {
	const op = "delete_image"
	a := c.send(ctx, op, "DELETE", "/api/products/"+p.slug+"/delete_image/", "", nil)
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		p.single[0] = true
	case a.status == http.StatusNoContent:
		p.exists = yes
		p.single = map[int]bool{0: true}
	case a.status == http.StatusBadRequest:
		// "No image to delete": right only if the product may have none.
		if !p.single[0] {
			c.problem("%s on %s: got 400 %s, but its image is one of files %v", op, p.slug, a.body, p.single)
		}
		p.exists = yes
		p.single = map[int]bool{0: true}
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s on %s: got %d, want 204: %s", op, p.slug, a.status, a.body)
		p.single[0] = true
	}
}

// deleteImage deletes one gallery image whose id an answer showed.
func (c *chaos) deleteImage(ctx context.Context, p *chaosProduct, e *galleryEntry) {
	const op = "delete image"
	a := c.send(ctx, op, "DELETE", fmt.Sprintf("/api/products/%s/images/%d/", p.slug, e.id), "", nil)
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		e.state = maybe
	case a.status == http.StatusNoContent:
		p.exists = yes
		e.state = no
	case a.status == http.StatusNotFound:
		// The image is gone, or the whole product.
		if e.state == yes && p.exists == yes {
			c.problem("%s %d of %s: got 404, but it was created and not deleted", op, e.id, p.slug)
		}
		e.state = no
	default:
		c.problem("%s %d of %s: got %d, want 204: %s", op, e.id, p.slug, a.status, a.body)
		e.state = maybe
	}
}

// putImageFile tries to change a gallery image's file with PUT, which
// vitrine refuses (upload a new image instead): 400, and nothing stored.
func (c *chaos) putImageFile(ctx context.Context, rng *rand.Rand, p *chaosProduct, e *galleryEntry) {
	const op = "image PUT with file"
	f, data, name := c.newFile(rng, p.slug, false)
	body, ctype := multipartBody(formPart{field: "image", name: name, data: data}, formPart{field: "alt_text", data: []byte("replaced")})
	a := c.send(ctx, op, "PUT", fmt.Sprintf("/api/products/%s/images/%d/", p.slug, e.id), ctype, body)
	c.record(f, op, a)
	switch {
	case a.fate != answered:
	case a.status == http.StatusBadRequest:
		// The body is refused before the image is looked up: this says
		// the product exists, and nothing about the image.
		p.exists = yes
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s %d of %s: got %d, want 400: %s", op, e.id, p.slug, a.status, a.body)
	}
}

// deleteProduct deletes the product and its gallery.
func (c *chaos) deleteProduct(ctx context.Context, p *chaosProduct) {
	const op = "delete product"
	a := c.send(ctx, op, "DELETE", "/api/products/"+p.slug+"/", "", nil)
	switch {
	case a.fate == unsent:
	case a.fate == cut:
		p.exists = maybe
	case a.status == http.StatusNoContent:
		p.exists = no
		for _, e := range p.gallery {
			e.state = no
		}
		p.groups = nil
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	default:
		c.problem("%s %s: got %d, want 204: %s", op, p.slug, a.status, a.body)
		p.exists = maybe
	}
}

// readProduct reads the product and checks it against what the clients
// were told, which also settles what cut requests did.
func (c *chaos) readProduct(ctx context.Context, p *chaosProduct) {
	const op = "read product"
	a := c.send(ctx, op, "GET", "/api/products/"+p.slug+"/", "", nil)
	switch {
	case a.fate != answered:
	case a.status == http.StatusNotFound:
		c.gone(p, op)
	case a.status == http.StatusOK && a.body != nil:
		var got chaosProductJSON
		if err := json.Unmarshal(a.body, &got); err != nil {
			c.problem("%s %s: %v: %s", op, p.slug, err, a.body)
			return
		}
		v := productView{exists: true, gallery: map[int]int64{}}
		if got.ImageWidth != nil && got.ImageHeight != nil {
			v.single = c.fileOf(*got.ImageWidth, *got.ImageHeight)
		}
		for _, img := range got.Images {
			c.addToView(&v, img.Width, img.Height, img.ID, op)
			c.noteImage(img.ID, img.Image)
		}
		c.resolve(p, v, op)
	case a.status != http.StatusOK:
		c.problem("%s %s: got %d, want 200: %s", op, p.slug, a.status, a.body)
	}
}

// addToView adds a gallery image to v, reporting a file stored twice.
func (c *chaos) addToView(v *productView, w, h int, id int64, where string) {
	n := c.fileOf(w, h)
	if other, ok := v.gallery[n]; ok && n > 0 {
		c.problem("%s: images %d and %d are both %s", where, other, id, c.describe(n))
	}
	v.gallery[n] = id
}

// fileOf returns the number of the file of this size, or -1.
func (c *chaos) fileOf(w, h int) int {
	c.modelMu.Lock()
	defer c.modelMu.Unlock()
	if f := c.byDims[[2]int{w, h}]; f != nil {
		return f.n
	}
	return -1
}

func (c *chaos) file(n int) *chaosFile {
	c.modelMu.Lock()
	defer c.modelMu.Unlock()
	return c.files[n-1]
}

// productView is a product as a read (or the database) shows it: its
// single image and gallery as file numbers (-1 for a file no client sent).
type productView struct {
	exists  bool
	single  int
	gallery map[int]int64 // file number → image id
}

// resolve checks what a read showed against the model and settles the
// model to it. where says which read, for messages.
func (c *chaos) resolve(p *chaosProduct, v productView, where string) {
	if !v.exists {
		if p.exists == yes {
			c.problem("%s: product %s is missing, but it was created and not deleted", where, p.slug)
		}
		p.exists = no
		for _, e := range p.gallery {
			e.state = no
		}
		p.groups = nil
		return
	}
	if p.exists == no {
		c.problem("%s: product %s exists, but it was deleted (or never created)", where, p.slug)
	}
	p.exists = yes
	if !p.single[v.single] {
		c.problem("%s: product %s has single image %s, want one of %s", where, p.slug, c.describe(v.single), c.describeSet(p.single))
	}
	p.single = map[int]bool{v.single: true}
	if v.single > 0 {
		if f := c.file(v.single); !f.single || f.slug != p.slug {
			c.problem("%s: product %s has single image %s, sent to %s (single %v)", where, p.slug, c.describe(v.single), f.slug, f.single)
		}
	}
	for _, g := range p.groups {
		there := 0
		for _, n := range g {
			if _, ok := v.gallery[n]; ok {
				there++
			}
		}
		if there != 0 && there != len(g) {
			c.problem("%s: product %s has %d of the %d files of one cut upload (%v), want all or none", where, p.slug, there, len(g), g)
		}
	}
	p.groups = nil
	for n, id := range v.gallery {
		e := p.gallery[n]
		switch {
		case n < 0:
			c.problem("%s: product %s has image %d, whose file no client sent", where, p.slug, id)
			continue
		case e == nil:
			c.problem("%s: product %s has image %d from %s, which it was never given (or was refused)", where, p.slug, id, c.describe(n))
			continue
		case e.state == no:
			c.problem("%s: product %s has image %d from %s, which was deleted", where, p.slug, id, c.describe(n))
		case e.id != 0 && e.id != id:
			c.problem("%s: product %s has %s as image %d, want id %d", where, p.slug, c.describe(n), id, e.id)
		}
		e.state, e.id = yes, id
	}
	for n, e := range p.gallery {
		if _, ok := v.gallery[n]; ok {
			continue
		}
		if e.state == yes {
			c.problem("%s: product %s lost image %d from %s", where, p.slug, e.id, c.describe(n))
		}
		e.state = no
	}
}

// describe names a file and the request that sent it.
func (c *chaos) describe(n int) string {
	switch {
	case n == 0:
		return "none"
	case n < 0:
		return "an unknown file"
	}
	f := c.file(n)
	c.modelMu.Lock()
	defer c.modelMu.Unlock()
	return fmt.Sprintf("file %d (%d x %d, %s)", n, f.w, f.h, f.req)
}

func (c *chaos) describeSet(set map[int]bool) string {
	var names []string
	for n := range set {
		names = append(names, c.describe(n))
	}
	slices.Sort(names)
	return "[" + strings.Join(names, "; ") + "]"
}

// chaosKey is a stored key taken apart.
type chaosKey struct {
	uuid string
	dir  string // "" for an original; the rendition's directory otherwise
	temp bool   // a file Put was writing when the kill came
}

// parseChaosKey reads products/YYYY/MM/DD/<uuid>.<ext> (an original) and
// products/<dir>/YYYY/MM/DD/<uuid>-<version>.<ext> (a rendition), and
// either followed by Local's ".tmp-" suffix.
func parseChaosKey(key string) (chaosKey, bool) {
	var k chaosKey
	if base, _, ok := strings.Cut(key, ".tmp-"); ok {
		key, k.temp = base, true
	}
	parts := strings.Split(strings.TrimPrefix(key, "products/"), "/")
	switch len(parts) {
	case 4:
	case 5:
		k.dir = parts[0]
	default:
		return k, false
	}
	base := parts[len(parts)-1]
	if len(base) < 36 {
		return k, false
	}
	k.uuid = base[:36]
	return k, true
}

// chaosOrphans counts the stored files no row refers to, by kind.
type chaosOrphans struct {
	keys                      map[string]bool
	originals, renditions     int
	interrupted, unattributed int
	temp                      int
}

// checkStorage checks the rows against the stored files and returns the
// files no row refers to, each of which must be one a kill explains.
func (c *chaos) checkStorage(ctx context.Context, db *sqldb.DB, files chaosFiles, interrupted map[int64]bool) chaosOrphans {
	stored := map[string]bool{}
	if err := files.List(ctx, func(key string, _ time.Time) error { stored[key] = true; return nil }); err != nil {
		c.t.Fatal(err)
	}
	referenced := map[string]bool{}
	if err := db.EachReferencedKey(ctx, func(key string) error {
		if referenced[key] {
			c.problem("key %s is referenced by two rows", key)
		}
		referenced[key] = true
		return nil
	}); err != nil {
		c.t.Fatal(err)
	}

	// Every row: its files exist, and a gallery image is ready with
	// exactly the configured renditions, each under its own original.
	var wantNames []string
	for _, sp := range vitrine.DefaultSpecs() {
		wantNames = append(wantNames, sp.Name)
	}
	slices.Sort(wantNames)
	liveUUIDs := map[string]int64{}
	var images, renditions int
	for after := int64(0); ; {
		imgs, err := db.ImagesAfter(ctx, "", after, 500)
		if err != nil {
			c.t.Fatal(err)
		}
		if len(imgs) == 0 {
			break
		}
		for _, img := range imgs {
			after = img.ID
			images++
			if img.Status != vitrine.StatusReady {
				c.problem("image %d (%s) is %s (%s), want ready", img.ID, img.Key, img.Status, img.Error)
			}
			if !stored[img.Key] {
				c.problem("image %d: its original %s is not in storage", img.ID, img.Key)
			}
			k, ok := parseChaosKey(img.Key)
			if !ok || k.dir != "" || k.temp {
				c.problem("image %d: original key %s has not the shape of one", img.ID, img.Key)
			}
			liveUUIDs[k.uuid] = img.ID
			var names []string
			for _, r := range img.Renditions {
				renditions++
				names = append(names, r.Name)
				if !stored[r.Key] {
					c.problem("image %d: rendition %s %s is not in storage", img.ID, r.Name, r.Key)
				}
				if rk, ok := parseChaosKey(r.Key); !ok || rk.uuid != k.uuid || rk.dir == "" {
					c.problem("image %d: rendition %s key %s is not one of original %s", img.ID, r.Name, r.Key, img.Key)
				}
			}
			slices.Sort(names)
			if img.Status == vitrine.StatusReady && !slices.Equal(names, wantNames) {
				c.problem("image %d: got renditions %v, want %v", img.ID, names, wantNames)
			}
		}
	}
	for key := range referenced {
		if !stored[key] {
			c.problem("a row refers to %s, which is not in storage", key)
		}
	}

	// No image has two files for one rendition.
	perRendition := map[[2]string][]string{}
	for key := range stored {
		if k, ok := parseChaosKey(key); ok && !k.temp && k.dir != "" {
			perRendition[[2]string{k.uuid, k.dir}] = append(perRendition[[2]string{k.uuid, k.dir}], key)
		}
	}
	for id, keys := range perRendition {
		if len(keys) > 1 {
			slices.Sort(keys)
			c.problem("original %s has %d files for rendition %s: %v", id[0], len(keys), id[1], keys)
		}
	}

	// Every file no row refers to is one a kill explains: a Put cut short,
	// the original of a request the kill cut, or a rendition that a render
	// cut by a kill wrote for an image deleted since.
	o := chaosOrphans{keys: map[string]bool{}}
	for key := range stored {
		if referenced[key] {
			continue
		}
		o.keys[key] = true
		k, ok := parseChaosKey(key)
		switch {
		case !ok:
			c.problem("stored file %s is not one of vitrine's keys", key)
		case k.temp:
			o.temp++
		case k.dir == "":
			o.originals++
			c.checkOrphanOriginal(ctx, files, key)
		default:
			o.renditions++
			c.modelMu.Lock()
			id, known := c.byUUID[k.uuid]
			c.modelMu.Unlock()
			switch {
			case liveUUIDs[k.uuid] != 0:
				c.problem("rendition file %s of live image %d is not referenced by it", key, liveUUIDs[k.uuid])
			case !known:
				o.unattributed++
			case interrupted[id]:
				o.interrupted++
			default:
				c.problem("rendition file %s of deleted image %d is left over, though no render of that image was interrupted", key, id)
			}
		}
	}
	c.t.Logf("storage: %d files, %d referenced by %d images (%d renditions) and the products' single images; %d not referenced",
		len(stored), len(referenced), images, renditions, len(o.keys))
	return o
}

// checkOrphanOriginal checks that an unreferenced original was sent by a
// request the kill cut: any other request either committed its row or
// removed its file before it answered.
func (c *chaos) checkOrphanOriginal(ctx context.Context, files chaosFiles, key string) {
	r, err := files.Open(ctx, key)
	if err != nil {
		c.problem("open orphan %s: %v", key, err)
		return
	}
	defer r.Close()
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		c.problem("orphan original %s does not decode: %v", key, err)
		return
	}
	n := c.fileOf(cfg.Width, cfg.Height)
	if n < 0 {
		c.problem("orphan original %s (%d x %d) is no file a client sent", key, cfg.Width, cfg.Height)
		return
	}
	f := c.file(n)
	c.modelMu.Lock()
	req := *f.req
	c.modelMu.Unlock()
	if req.fate != cut {
		c.problem("orphan original %s is %s, sent by %s: only a request cut by a kill may leave one", key, c.describe(n), &req)
	}
}

// checkSweep runs vitrine sweep and checks that it deletes exactly the
// files no row refers to, finds no row without its file, and leaves
// storage holding exactly the referenced files.
func (c *chaos) checkSweep(ctx context.Context, db *sqldb.DB, files chaosFiles, orphans chaosOrphans) {
	cmd := exec.Command(c.bin, "sweep", "--grace", "1ns")
	cmd.Env = c.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("vitrine sweep: %v\n%s%s", err, out, stderr.Bytes())
	}
	deleted := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if key, ok := strings.CutPrefix(line, "deleted "); ok {
			deleted[key] = true
		}
		if strings.HasPrefix(line, "missing ") {
			c.problem("vitrine sweep: %s", line)
		}
	}
	for key := range orphans.keys {
		if !deleted[key] {
			c.problem("vitrine sweep did not delete unreferenced %s", key)
		}
	}
	for key := range deleted {
		if !orphans.keys[key] {
			c.problem("vitrine sweep deleted %s, which was referenced", key)
		}
	}
	var stored, referenced []string
	if err := files.List(ctx, func(key string, _ time.Time) error { stored = append(stored, key); return nil }); err != nil {
		c.t.Fatal(err)
	}
	if err := db.EachReferencedKey(ctx, func(key string) error { referenced = append(referenced, key); return nil }); err != nil {
		c.t.Fatal(err)
	}
	slices.Sort(stored)
	slices.Sort(referenced)
	if !slices.Equal(stored, referenced) {
		c.problem("after the sweep, storage and rows differ: %d stored, %d referenced\nonly stored: %v\nonly referenced: %v",
			len(stored), len(referenced), minus(stored, referenced), minus(referenced, stored))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	c.t.Logf("%s", lines[len(lines)-1])
}

// checkModel checks every product row against what the clients were told,
// and that no row exists that no client asked for.
func (c *chaos) checkModel(ctx context.Context, db *sqldb.DB) {
	rows := map[string]*vitrine.Product{}
	for page := 1; ; page++ {
		ps, total, err := db.Products(ctx, vitrine.ProductQuery{Page: page, PageSize: 100, Ordering: "id"})
		if err != nil {
			c.t.Fatal(err)
		}
		for _, p := range ps {
			rows[string(p.Slug)] = p
		}
		if page*100 >= total {
			break
		}
	}
	c.modelMu.Lock()
	products := slices.Clone(c.products)
	c.modelMu.Unlock()
	var exist, gone, images int
	for _, p := range products {
		row := rows[p.slug]
		delete(rows, p.slug)
		v := productView{exists: row != nil, gallery: map[int]int64{}}
		if row != nil {
			exist++
			if row.ImageKey != "" {
				v.single = c.fileOf(row.ImageWidth, row.ImageHeight)
			}
			for _, img := range row.Images {
				images++
				c.addToView(&v, img.Width, img.Height, img.ID, "after the chaos")
			}
		} else {
			gone++
		}
		c.resolve(p, v, "after the chaos")
	}
	for slug := range rows {
		c.problem("product %s exists, but no client created it", slug)
	}
	c.t.Logf("model: %d products (%d exist, %d deleted or never created), %d gallery images, all as the clients were told", len(products), exist, gone, images)
}

// chaosJobs reads River's jobs through River's own client.
type chaosJobs struct {
	client *river.Client[*sql.Tx]
}

func newChaosJobs(t *testing.T, pool *sqldb.Pool) *chaosJobs {
	cfg := &river.Config{Logger: slog.New(slog.DiscardHandler)}
	var client *river.Client[*sql.Tx]
	var err error
	if pool.Dialect == sqldb.Postgres {
		client, err = river.NewClient(riverdatabasesql.New(pool.Write), cfg)
	} else {
		client, err = river.NewClient(riversqlite.New(pool.Write), cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &chaosJobs{client: client}
}

// list returns every job in these states (all states when none are given).
func (j *chaosJobs) list(t *testing.T, states ...rivertype.JobState) []*rivertype.JobRow {
	t.Helper()
	params := river.NewJobListParams().First(1000)
	if len(states) > 0 {
		params = params.States(states...)
	}
	var all []*rivertype.JobRow
	for {
		res, err := j.client.JobList(context.Background(), params)
		if err != nil {
			t.Fatalf("list jobs: %v", err)
		}
		all = append(all, res.Jobs...)
		if len(res.Jobs) < 1000 {
			return all
		}
		params = params.After(res.LastCursor)
	}
}

// settle waits until no job is left to run and every image is ready. A
// killed node's running jobs wait for River's rescuer (VITRINE_JOB_RESCUE_
// AFTER, on the node that next holds the leadership); the failed attempts
// that rescue counts are then retried after attempt⁴ seconds, 81 s by the
// third, so the test asks River to retry them now, as an operator would:
// it changes when a job runs, never what it does. It returns how many
// retries it moved forward.
func (j *chaosJobs) settle(t *testing.T, pool *sqldb.Pool) int {
	t.Helper()
	pulled, stuck := 0, 0
	deadline := time.Now().Add(3 * time.Minute)
	for {
		notReady := countRows(t, pool, `SELECT count(*) FROM images WHERE status <> 'ready'`)
		failed := countRows(t, pool, `SELECT count(*) FROM images WHERE status = 'failed'`)
		if failed > 0 {
			t.Fatalf("%d images failed to render", failed)
		}
		active := j.list(t, rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateRetryable,
			rivertype.JobStateScheduled, rivertype.JobStatePending)
		if notReady == 0 && len(active) == 0 {
			return pulled
		}
		// Twice in a row, so that a render finishing between the two
		// queries is not taken for a lost job.
		if len(active) == 0 {
			if stuck++; stuck == 2 {
				t.Fatalf("%d images are pending with no job left to render them", notReady)
			}
		} else {
			stuck = 0
		}
		for _, job := range active {
			if job.State == rivertype.JobStateRetryable {
				if _, err := j.client.JobRetry(context.Background(), job.ID); err != nil {
					t.Fatalf("retry job %d: %v", job.ID, err)
				}
				pulled++
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes, %d images are not ready and %d jobs are left", notReady, len(active))
		}
		time.Sleep(200 * time.Millisecond) // the jobs run in the node
	}
}

// renders returns the images whose render was interrupted at least once
// (an attempt failed, or was rescued after a kill).
func (j *chaosJobs) renders(t *testing.T) map[int64]bool {
	interrupted := map[int64]bool{}
	for _, job := range j.list(t) {
		if job.Kind != "render_image" || len(job.Errors) == 0 {
			continue
		}
		var args struct {
			ImageID int64 `json:"image_id"`
		}
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
			t.Fatal(err)
		}
		interrupted[args.ImageID] = true
	}
	return interrupted
}

// checkFinished checks that every job completed: a discarded delete job
// is a leaked file, a cancelled render an image that never became ready.
func (j *chaosJobs) checkFinished(t *testing.T) {
	counts := map[string]int{}
	retried := 0
	for _, job := range j.list(t) {
		counts[job.Kind+" "+string(job.State)]++
		if job.State != rivertype.JobStateCompleted {
			t.Errorf("job %d (%s) ended %s: %v", job.ID, job.Kind, job.State, job.Errors)
		}
		if len(job.Errors) > 0 {
			retried++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	t.Logf("jobs: %s; %d had a failed or rescued attempt", strings.Join(parts, ", "), retried)
}
