package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vitrine/vitrine/bench/host"
)

// e2eClients is the number of concurrent clients of the throughput test.
const e2eClients = 4

// pollEvery is how often a client asks whether its image is ready.
const pollEvery = 20 * time.Millisecond

// e2eRun is one run of the server with a number of render workers.
type e2eRun struct {
	Workers int
	// Latency holds, per file, the upload-to-ready seconds of each round,
	// one upload at a time; empty when the run did not measure it.
	Latency map[string][]float64
	// Throughput: the corpus uploaded Rounds times by e2eClients clients,
	// each uploading one image and waiting for it to be ready before the
	// next.
	Images    int
	Seconds   float64
	Latencies []float64 // upload-to-ready of each image under that load
	PeakRSSK  int       // the server's VmHWM just before it was stopped
	// Burst, when set, names the file that burstClients clients uploaded at
	// the same moment, BurstRounds times, instead of the tests above.
	Burst       string
	BurstRounds int
}

// burstClients is the number of simultaneous uploads of the burst test:
// the "8 concurrent 15 MP uploads".
const burstClients = 8

// runE2E starts `vitrine serve` with workers render workers on a free
// loopback port and a fresh data directory, measures upload-to-ready
// latency (when latency is set) and throughput, and stops it with SIGTERM.
//
// With burst set, it runs only the burst test on that file instead.
func runE2E(ctx context.Context, o options, files []corpusFile, workers int, latency bool, burst *corpusFile) (e2eRun, error) {
	run := e2eRun{Workers: workers}
	dataDir, err := os.MkdirTemp("", "vitrine-bench-data-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dataDir)
	logName := fmt.Sprintf("server-workers%d.log", workers)
	if burst != nil {
		logName = fmt.Sprintf("server-burst-workers%d.log", workers)
	}
	logPath := filepath.Join(o.out, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return run, err
	}
	defer logFile.Close()

	command := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, o.vitrine, args...)
		cmd.Env = append(os.Environ(),
			"VITRINE_MAX_UPLOAD_BYTES=33554432", // some corpus files exceed the default 5 MiB
			"VITRINE_RENDER_WORKERS="+strconv.Itoa(workers))
		cmd.Stderr = logFile
		return cmd
	}
	migrate := command("migrate", "--data-dir", dataDir)
	migrate.Stdout = logFile
	if err := migrate.Run(); err != nil {
		return run, fmt.Errorf("vitrine migrate: %w (see %s)", err, logPath)
	}
	tokenOut, err := command("token", "create", "--user", "bench", "--data-dir", dataDir).Output()
	if err != nil {
		return run, fmt.Errorf("vitrine token create: %w (see %s)", err, logPath)
	}
	addr, err := freeAddr()
	if err != nil {
		return run, err
	}
	serve := command("serve", "--addr", addr, "--data-dir", dataDir)
	serve.Stdout = logFile
	if err := serve.Start(); err != nil {
		return run, fmt.Errorf("vitrine serve: %w", err)
	}
	pid := strconv.Itoa(serve.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	// stop ends the server the way an operator would, and gives it the
	// shutdown timeout to finish.
	stop := func() error {
		if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		select {
		case err := <-exited:
			return err
		case <-time.After(60 * time.Second):
			serve.Process.Kill()
			return fmt.Errorf("vitrine serve did not stop within 60 s of SIGTERM")
		}
	}

	c := &client{
		base:  "http://" + addr,
		token: strings.TrimSpace(string(tokenOut)),
		http:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: e2eClients * 2}, Timeout: 5 * time.Minute},
	}
	if burst != nil {
		err = measureBurst(c, o, *burst, &run, exited)
	} else {
		err = measureServer(c, o, files, &run, latency, exited)
	}
	run.PeakRSSK = host.StatusKB(pid, "VmHWM")
	return run, errors.Join(err, stop())
}

// measureServer runs the latency and throughput tests against a started
// server.
func measureServer(c *client, o options, files []corpusFile, run *e2eRun, latency bool, exited <-chan error) error {
	if err := c.waitReadyz(exited); err != nil {
		return err
	}
	if latency {
		run.Latency = map[string][]float64{}
		for round := range o.e2eRounds {
			slug := fmt.Sprintf("latency-%d", round+1)
			if err := c.createProduct(slug); err != nil {
				return err
			}
			for _, f := range files {
				sec, err := c.uploadAndWait(slug, f)
				if err != nil {
					return err
				}
				run.Latency[f.Name] = append(run.Latency[f.Name], sec)
				progress("e2e workers=%d latency round %d/%d %s: %.0f ms", run.Workers, round+1, o.e2eRounds, f.Name, sec*1000)
			}
		}
	}

	type job struct {
		slug string
		file corpusFile
	}
	var jobs []job
	for round := range o.e2eRounds {
		slug := fmt.Sprintf("throughput-%d", round+1)
		if err := c.createProduct(slug); err != nil {
			return err
		}
		for _, f := range files {
			jobs = append(jobs, job{slug, f})
		}
	}
	queue := make(chan job, len(jobs))
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	var mu sync.Mutex // guards run.Latencies and firstErr
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	for range e2eClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				sec, err := c.uploadAndWait(j.slug, j.file)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				run.Latencies = append(run.Latencies, sec)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	run.Seconds = time.Since(t0).Seconds()
	run.Images = len(jobs)
	progress("e2e workers=%d throughput: %d images in %.1f s, %.2f images/s", run.Workers, run.Images, run.Seconds, float64(run.Images)/run.Seconds)
	return firstErr
}

// measureBurst uploads one file from burstClients clients at the same
// moment, waits for every image to be ready, and does it o.e2eRounds times:
// what the server's memory does when uploads outrun its render workers.
func measureBurst(c *client, o options, f corpusFile, run *e2eRun, exited <-chan error) error {
	if err := c.waitReadyz(exited); err != nil {
		return err
	}
	run.Burst, run.BurstRounds = f.Name, o.e2eRounds
	t0 := time.Now()
	for round := range o.e2eRounds {
		slug := fmt.Sprintf("burst-%d", round+1)
		if err := c.createProduct(slug); err != nil {
			return err
		}
		type result struct {
			sec float64
			err error
		}
		done := make(chan result, burstClients)
		for range burstClients {
			go func() {
				sec, err := c.uploadAndWait(slug, f)
				done <- result{sec, err}
			}()
		}
		for range burstClients {
			r := <-done
			if r.err != nil {
				return r.err
			}
			run.Latencies = append(run.Latencies, r.sec)
		}
		progress("e2e burst round %d/%d: %d uploads of %s ready", round+1, o.e2eRounds, burstClients, f.Name)
	}
	run.Seconds = time.Since(t0).Seconds()
	run.Images = burstClients * o.e2eRounds
	return nil
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// client speaks vitrine's HTTP API.
type client struct {
	base  string
	token string
	http  *http.Client
}

// waitReadyz waits until the server answers /readyz, or gives up after 30 s
// or when the server exits.
func (c *client) waitReadyz(exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("vitrine serve exited before it was ready: %v", err)
		default:
		}
		resp, err := c.http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("vitrine serve not ready after 30 s")
}

// do sends a request and decodes the JSON answer into out, which may be nil.
func (c *client) do(method, path, contentType string, body []byte, want int, out any) error {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func (c *client) createProduct(slug string) error {
	body, err := json.Marshal(map[string]string{"name": "Bench " + slug, "slug": slug, "description": "benchmark", "price": "9.99"})
	if err != nil {
		return err
	}
	return c.do("POST", "/api/products/", "application/json", body, http.StatusCreated, nil)
}

// uploadAndWait uploads f as a gallery image of the product and polls the
// image every pollEvery until it is ready. It returns the seconds from the
// start of the upload to the answer that said "ready".
func (c *client) uploadAndWait(slug string, f corpusFile) (float64, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("image", f.Name)
	if err != nil {
		return 0, err
	}
	if _, err := part.Write(f.Data); err != nil {
		return 0, err
	}
	if err := mw.Close(); err != nil {
		return 0, err
	}

	t0 := time.Now()
	var img struct {
		ID     int64
		Status string
	}
	if err := c.do("POST", "/api/products/"+slug+"/images/", mw.FormDataContentType(), body.Bytes(), http.StatusCreated, &img); err != nil {
		return 0, fmt.Errorf("upload %s: %w", f.Name, err)
	}
	path := fmt.Sprintf("/api/products/%s/images/%d/", slug, img.ID)
	for img.Status != "ready" {
		if img.Status == "failed" {
			return 0, fmt.Errorf("rendering %s failed", f.Name)
		}
		if time.Since(t0) > 5*time.Minute {
			return 0, fmt.Errorf("%s not ready after 5 minutes (status %q)", f.Name, img.Status)
		}
		time.Sleep(pollEvery)
		if err := c.do("GET", path, "", nil, http.StatusOK, &img); err != nil {
			return 0, err
		}
	}
	return time.Since(t0).Seconds(), nil
}
