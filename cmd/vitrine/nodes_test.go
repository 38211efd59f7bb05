package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/blob/blobtest"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
)

// node is one vitrine serve process of the many-nodes test.
type node struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	done chan error
}

func startNode(t *testing.T, bin string, env []string, logPath string) *node {
	t.Helper()
	addr := freeAddr(t)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(n.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case err := <-n.done:
			t.Fatalf("node exited before it was ready: %v (see %s)", err, logPath)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not ready after 60s (see %s)", logPath)
		}
		time.Sleep(50 * time.Millisecond) // waiting for another process
	}
}

// TestManyNodes runs two vitrine processes on one PostgreSQL database and
// one S3 bucket: 50 uploads spread over both, one node killed with SIGKILL
// while its workers render, and then every image must be ready, every
// rendition in the bucket exactly once, nothing in the bucket
// unreferenced, and deletes through either node must empty the bucket.
func TestManyNodes(t *testing.T) {
	if os.Getenv(sqldbtest.PostgresEnv) == "" || os.Getenv("VITRINE_TEST_S3_URL") == "" {
		t.Skipf("needs PostgreSQL (%s) and S3 (VITRINE_TEST_S3_URL): make test starts an S3 server; CI sets both", sqldbtest.PostgresEnv)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "vitrine")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dsn := sqldbtest.DSN(t)
	storage := blobtest.S3URL(t)
	env := append(os.Environ(),
		"VITRINE_DATABASE_URL="+dsn,
		"VITRINE_STORAGE_URL="+storage,
		"VITRINE_DATA_DIR="+dir,
		"VITRINE_RENDER_WORKERS=2",
		"VITRINE_POLL_INTERVAL=50ms",
		// A killed node's jobs are handed over after this long.
		"VITRINE_JOB_TIMEOUT=10s",
		"VITRINE_JOB_RESCUE_AFTER=12s",
		"VITRINE_SWEEP_INTERVAL=0",
		"VITRINE_LOG_LEVEL=warn",
	)
	migrate := exec.Command(bin, "migrate")
	migrate.Env = env
	out, err := migrate.CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "token", "create", "--user", "nodes")
	cmd.Env = env
	tokenOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	token := strings.TrimSpace(string(tokenOut))
	logA, logB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	a := startNode(t, bin, env, logA)
	b := startNode(t, bin, env, logB)
	c := &apiClient{t: t, token: token}

	c.do(a.base, "POST", "/api/products/", "application/json", strings.NewReader(`{"name":"Many","slug":"many"}`), http.StatusCreated, nil)
	var mu sync.Mutex
	var ids []int64
	upload := func(n *node, i int) {
		body, ctype := photoForm(t, i)
		var img struct{ ID int64 }
		c.do(n.base, "POST", "/api/products/many/images/", ctype, body, http.StatusCreated, &img)
		mu.Lock()
		ids = append(ids, img.ID)
		mu.Unlock()
	}
	// 30 uploads spread over both nodes, 3 at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 3)
	for i := range 30 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			upload([]*node{a, b}[i%2], i)
		}()
	}
	wg.Wait()
	ctx := context.Background()
	pool, err := sqldb.Open(ctx, dsn, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Node A dies mid-render: with more than two renders running, and two
	// workers per node, at least one of them is A's.
	for waited := time.Now(); ; {
		var running int
		if err := pool.Read.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'render_image' AND state = 'running'`).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running > 2 {
			break
		}
		if time.Since(waited) > 30*time.Second {
			t.Fatalf("only %d renders running: cannot kill a node mid-render", running)
		}
		time.Sleep(10 * time.Millisecond) // the renders run in the nodes
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	for i := 30; i < 50; i++ {
		upload(b, i)
	}
	if len(ids) != 50 {
		t.Fatalf("got %d uploads acknowledged, want 50", len(ids))
	}

	// Every image becomes ready: B renders its own, and A's once they are
	// rescued.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		var list []struct {
			ID         int64
			Status     string
			Renditions map[string]struct{ URL string }
		}
		c.do(b.base, "GET", "/api/products/many/images/", "", nil, http.StatusOK, &list)
		ready := 0
		for _, img := range list {
			if img.Status == "ready" {
				ready++
			}
		}
		if len(list) == 50 && ready == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d images ready after 4 minutes (logs: %s, %s)", ready, len(list), logA, logB)
		}
		time.Sleep(500 * time.Millisecond) // renders run in the other processes
	}

	// The kill hit renders in progress: River handed them to node B, which
	// ran them again (a second attempt), to completion.
	var rescued int
	if err := pool.Read.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'render_image' AND attempt > 1 AND state = 'completed'`).Scan(&rescued); err != nil {
		t.Fatal(err)
	}
	if rescued == 0 {
		t.Fatal("no render job was rescued: the kill did not hit a render in progress")
	}
	t.Logf("%d render jobs of the killed node were rescued and completed by the other", rescued)

	// The bucket holds exactly what the rows refer to: one original and one
	// file per rendition per image, nothing else.
	db := sqldb.New(pool, nil)
	var referenced []string
	if err := db.EachReferencedKey(ctx, func(k string) error { referenced = append(referenced, k); return nil }); err != nil {
		t.Fatal(err)
	}
	s3 := openTestS3(t, storage)
	stored := listKeys(t, s3)
	slices.Sort(referenced)
	if want := 50 * (1 + len(vitrine.DefaultSpecs())); len(referenced) != want || !slices.Equal(stored, referenced) {
		t.Fatalf("bucket and rows differ: %d stored, %d referenced (want %d)\nonly stored: %v\nonly referenced: %v",
			len(stored), len(referenced), want, minus(stored, referenced), minus(referenced, stored))
	}

	// Deletes through either node (A comes back) remove every file.
	a = startNode(t, bin, env, logA)
	for i, id := range ids[:25] {
		n := []*node{a, b}[i%2]
		c.do(n.base, "DELETE", fmt.Sprintf("/api/products/many/images/%d/", id), "", nil, http.StatusNoContent, nil)
	}
	c.do(a.base, "DELETE", "/api/products/many/", "", nil, http.StatusNoContent, nil)
	deadline = time.Now().Add(time.Minute)
	for len(listKeys(t, s3)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("files left in the bucket after every delete: %v", listKeys(t, s3))
		}
		time.Sleep(200 * time.Millisecond) // delete jobs run in the nodes
	}
}

func openTestS3(t *testing.T, storage string) *blob.S3 {
	s3, err := blob.NewS3(context.Background(), blob.S3Config{
		URL: storage, AccessKey: os.Getenv("AWS_ACCESS_KEY_ID"), SecretKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s3
}

func listKeys(t *testing.T, s3 *blob.S3) []string {
	t.Helper()
	var keys []string
	if err := s3.List(context.Background(), func(k string, _ time.Time) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// apiClient calls a node's API with a token.
type apiClient struct {
	t     *testing.T
	token string
}

func (c *apiClient) do(base, method, path, ctype string, body io.Reader, want int, out any) {
	c.t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s%s: got %d, want %d: %s", method, base, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// photoForm is a multipart body with a distinct 2 MP JPEG, big enough that
// rendering it takes a while.
func photoForm(t *testing.T, i int) (io.Reader, string) {
	img := image.NewRGBA(image.Rect(0, 0, 1800, 1200))
	for y := 0; y < 1200; y++ {
		for x := 0; x < 1800; x++ {
			img.Set(x, y, color.RGBA{uint8(x*7 + i), uint8(y*3 + i*11), uint8((x ^ y) + i), 255})
		}
	}
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image", fmt.Sprintf("p%d.jpg", i))
	fw.Write(jpg.Bytes())
	mw.Close()
	return &body, mw.FormDataContentType()
}
