package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// pillowWorker is a running bench/note_pillow.py: one JSON command per line
// in, one JSON answer per line out. Python starts once, untimed.
type pillowWorker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startPillow starts the worker, on CPU 0 when pin is set and taskset
// exists (the caller learns which from pinned).
func startPillow(python, script string, pin bool) (w *pillowWorker, pinned bool, err error) {
	args := []string{python, script}
	if pin {
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{ts, "-c", "0"}, args...)
			pinned = true
		}
	}
	// vitrine's renders run at nice 10 (vips.renderNice), so that they
	// yield to its HTTP handlers; the note's code gets the same priority,
	// so that whatever else runs on the machine slows both alike.
	if n, err := exec.LookPath("nice"); err == nil {
		args = append([]string{n, "-n", "10"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, false, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, false, err
	}
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("start the Pillow worker: %w", err)
	}
	return &pillowWorker{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16)}, pinned, nil
}

// call sends one command and decodes the answer into answer.
func (w *pillowWorker) call(command map[string]any, answer any) error {
	line, err := json.Marshal(command)
	if err != nil {
		return err
	}
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("pillow %v: %w", command["op"], err)
	}
	reply, err := w.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("pillow %v: no answer: %w", command["op"], err)
	}
	var failed struct{ Error string }
	if json.Unmarshal(reply, &failed) == nil && failed.Error != "" {
		return fmt.Errorf("pillow %s: %s", line, failed.Error)
	}
	return json.Unmarshal(reply, answer)
}

// close ends the worker by closing its stdin.
func (w *pillowWorker) close() error {
	return errors.Join(w.in.Close(), w.cmd.Wait())
}

// pillowRun is the worker's answer to a render command.
type pillowRun struct {
	Seconds    float64
	Renditions []struct {
		Name    string
		Seconds float64
		Bytes   int
		Width   int
		Height  int
		Path    string
	}
}

// render runs one of the note's variants on path; with out set, the worker
// writes the renditions there as pillow-NAME.EXT.
func (w *pillowWorker) render(variant, path, out string) (pillowRun, error) {
	var r pillowRun
	err := w.call(map[string]any{"op": "render", "variant": variant, "path": path, "out": out}, &r)
	return r, err
}

// pillowVersions is the worker's answer to a version command.
type pillowVersions struct {
	Pillow  string
	Python  string
	LibWebP string `json:"libwebp"`
}
