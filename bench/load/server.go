package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// server is a `vitrine serve` process started by the load test on a free
// loopback port with a data directory of its own.
type server struct {
	Name    string // "vitrine serve", or "vitrine serve (node 2 of 3)" with -nodes
	Base    string // http://127.0.0.1:PORT
	DataDir string
	cmd     *exec.Cmd
	exited  chan error
	logPath string
}

// servers are the `vitrine serve` processes of a run: one, or with -nodes
// N, N of them sharing the database and the storage that
// VITRINE_DATABASE_URL and VITRINE_STORAGE_URL name, all writing to one log.
type servers struct {
	Nodes []*server
	Token string // admin scope: exempt from rate limits
	log   *os.File
}

// buildVitrine builds the server binary the way `make build` does.
func buildVitrine(ctx context.Context, path string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/vitrine")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s ./cmd/vitrine: %w", path, err)
	}
	return nil
}

// serverEnv is the environment of every vitrine command: ours, so that
// VITRINE_DATABASE_URL, VITRINE_STORAGE_URL, VITRINE_RENDER_MEMORY and the
// rest pass through, plus MALLOC_ARENA_MAX=2 when it is unset, as the
// Makefile and the design ask for every libvips process.
func serverEnv() []string {
	env := os.Environ()
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		env = append(env, "MALLOC_ARENA_MAX=2")
	}
	return env
}

// startServers makes n fresh data directories, migrates (once: with n > 1
// the nodes share the database), creates an admin token and starts n
// `vitrine serve` processes, each on a free loopback port, all logging to
// logPath. It returns once every node's /readyz answers 200.
func startServers(ctx context.Context, vitrine, logPath string, n int) (*servers, error) {
	ss := &servers{}
	var err error
	// O_APPEND: the nodes write to one file, and each write then lands at
	// its end, so that two nodes' lines never overwrite each other.
	ss.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	for i := range n {
		dataDir, err := os.MkdirTemp("", "vitrine-load-")
		if err != nil {
			ss.cleanup(false)
			return nil, err
		}
		name := "vitrine serve"
		if n > 1 {
			name = fmt.Sprintf("vitrine serve (node %d of %d)", i+1, n)
		}
		ss.Nodes = append(ss.Nodes, &server{Name: name, DataDir: dataDir, exited: make(chan error, 1), logPath: logPath})
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, vitrine, args...)
		cmd.Env = serverEnv()
		cmd.Stderr = ss.log
		return cmd
	}
	dataDir := ss.Nodes[0].DataDir
	migrate := command("migrate", "--data-dir", dataDir)
	migrate.Stdout = ss.log
	if err := migrate.Run(); err != nil {
		ss.cleanup(false)
		return nil, fmt.Errorf("vitrine migrate: %w (see %s)", err, logPath)
	}
	out, err := command("token", "create", "--user", "load", "--scope", "admin", "--data-dir", dataDir).Output()
	if err != nil {
		ss.cleanup(false)
		return nil, fmt.Errorf("vitrine token create: %w (see %s)", err, logPath)
	}
	ss.Token = strings.TrimSpace(string(out))
	for i, s := range ss.Nodes {
		if err := s.start(ctx, vitrine, ss.log); err != nil {
			for _, started := range ss.Nodes[:i] {
				started.stop()
			}
			ss.cleanup(false)
			return nil, err
		}
	}
	return ss, nil
}

// start starts `vitrine serve` on a free loopback port and waits until it
// is ready; on failure the process is stopped.
func (s *server) start(ctx context.Context, vitrine string, log *os.File) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s.Base = "http://" + addr
	// Not CommandContext: the server is stopped with SIGTERM by stop, the
	// way an operator stops it, never killed by a cancelled context.
	s.cmd = exec.Command(vitrine, "serve", "--addr", addr, "--data-dir", s.DataDir)
	s.cmd.Env = serverEnv()
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", s.Name, err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		s.stop()
		return err
	}
	return nil
}

// Pids are the servers' process ids, for /proc.
func (ss *servers) Pids() []int {
	var pids []int
	for _, s := range ss.Nodes {
		pids = append(pids, s.Pid())
	}
	return pids
}

// Alive reports an error for every server that has exited.
func (ss *servers) Alive() error {
	var errs []error
	for _, s := range ss.Nodes {
		errs = append(errs, s.Alive())
	}
	return errors.Join(errs...)
}

// stop stops every server, one after the other.
func (ss *servers) stop() error {
	var errs []error
	for _, s := range ss.Nodes {
		errs = append(errs, s.stop())
	}
	return errors.Join(errs...)
}

// cleanup closes the log and removes the data directories unless keep.
func (ss *servers) cleanup(keep bool) {
	ss.log.Close()
	if !keep {
		for _, s := range ss.Nodes {
			os.RemoveAll(s.DataDir)
		}
	}
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

// waitReady polls /readyz until it answers 200, for at most 30 s.
func (s *server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.exited <- err // stop reads it again
			return fmt.Errorf("%s exited before it was ready: %v (see %s)", s.Name, err, s.logPath)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := http.Get(s.Base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 30 s (see %s)", s.Name, s.logPath)
}

// Pid is the server's process id, for /proc.
func (s *server) Pid() int { return s.cmd.Process.Pid }

// Alive reports an error when the server has exited.
func (s *server) Alive() error {
	select {
	case err := <-s.exited:
		s.exited <- err
		return fmt.Errorf("%s exited: %v (see %s)", s.Name, err, s.logPath)
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for the server to finish its requests and
// jobs in flight, killing it after a minute.
func (s *server) stop() error {
	if err := s.Alive(); err != nil {
		return err
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.exited:
		if err != nil {
			return fmt.Errorf("%s: %w (see %s)", s.Name, err, s.logPath)
		}
		return nil
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop within a minute of SIGTERM (see %s)", s.Name, s.logPath)
	}
}

// rssSampler reads each server's VmRSS every 100 ms and keeps the largest,
// per phase of the run: the peak of one process, whatever the number of
// nodes, since the memory target is per process. VmHWM gives the true
// peak; the samples show in which phase it happened.
type rssSampler struct {
	mu    sync.Mutex
	phase string
	max   map[string]int // kB per phase
}

func newRSSSampler() *rssSampler {
	return &rssSampler{max: map[string]int{}}
}

// setPhase names the phase that the next samples belong to.
func (r *rssSampler) setPhase(name string) {
	r.mu.Lock()
	r.phase = name
	r.mu.Unlock()
}

// run samples the processes pids until ctx is done.
func (r *rssSampler) run(ctx context.Context, pids []int) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		kb := peakKB(pids, "VmRSS")
		r.mu.Lock()
		r.max[r.phase] = max(r.max[r.phase], kb)
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// peak returns the largest sample of a phase, in kB.
func (r *rssSampler) peak(phase string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max[phase]
}

// peakKB returns the largest of a /proc/PID/status field in kB (VmRSS,
// VmHWM) over the processes pids, or 0.
func peakKB(pids []int, field string) int {
	kb := 0
	for _, pid := range pids {
		kb = max(kb, host.StatusKB(strconv.Itoa(pid), field))
	}
	return kb
}

// cpuSeconds returns the user and system CPU time the processes pids have
// used together, from /proc/PID/stat (0 for a process that is gone).
func cpuSeconds(pids []int) float64 {
	var sum float64
	for _, pid := range pids {
		sum += statCPUSeconds(host.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"))
	}
	return sum
}

// statCPUSeconds reads utime + stime from the text of a /proc stat file.
func statCPUSeconds(data string) float64 {
	// The command name in parentheses may hold spaces: count fields after it.
	i := strings.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(data[i+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64) // field 14 of proc(5)
	stime, _ := strconv.ParseFloat(fields[12], 64) // field 15
	return (utime + stime) / clockTicks()
}

// threadUse is the CPU time of a group of threads and the time they
// waited, runnable, for a core.
type threadUse struct {
	CPU, Wait float64 // seconds
}

// threadUses sums, by thread name, the CPU time of the threads of the
// processes pids (/proc/PID/task/TID/stat) and their wait for a core (the
// second field of schedstat). The names tell rendering apart from serving:
// libvips and glib name their worker threads, Go's threads carry the
// command's name. A thread that exits takes its counts with it.
func threadUses(pids []int) map[string]threadUse {
	var tasks []string
	for _, pid := range pids {
		t, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*")
		tasks = append(tasks, t...)
	}
	uses := map[string]threadUse{}
	for _, t := range tasks {
		name := strings.TrimSpace(host.ReadFile(t + "/comm"))
		u := uses[name]
		u.CPU += statCPUSeconds(host.ReadFile(t + "/stat"))
		if fields := strings.Fields(host.ReadFile(t + "/schedstat")); len(fields) >= 2 {
			ns, _ := strconv.ParseFloat(fields[1], 64)
			u.Wait += ns / 1e9
		}
		uses[name] = u
	}
	return uses
}

// usesSince returns what the threads used between two threadUses.
func usesSince(before, after map[string]threadUse) map[string]threadUse {
	d := map[string]threadUse{}
	for name, a := range after {
		b := before[name]
		d[name] = threadUse{CPU: a.CPU - b.CPU, Wait: a.Wait - b.Wait}
	}
	return d
}

// clockTicks is the unit of /proc/PID/stat times: sysconf(_SC_CLK_TCK),
// which is 100 on every Linux this runs on; getconf asks to be sure.
func clockTicks() float64 {
	if n, err := strconv.ParseFloat(host.Output("getconf", "CLK_TCK"), 64); err == nil && n > 0 {
		return n
	}
	return 100
}

// selfCPUSeconds returns the CPU time this load client has used.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
