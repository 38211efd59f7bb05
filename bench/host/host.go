// Package host reads what the benchmark reports say about the machine
// they ran on (load average, memory, /proc fields, tool versions), for the
// bench programs (bench/render, bench/load). Every function returns
// "unknown" (or "") rather than an error: a report is still worth having
// without one of its lines.
package host

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// LoadAverage returns the 1, 5 and 15 minute load averages.
func LoadAverage() string {
	fields := strings.Fields(ReadFile("/proc/loadavg"))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// MemTotal returns the machine's memory in GiB.
func MemTotal() string {
	kb, err := strconv.Atoi(strings.TrimSuffix(ProcField("/proc/meminfo", "MemTotal"), " kB"))
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

// ProcField returns the value of the first "name: value" line of a /proc file.
func ProcField(path, name string) string {
	for _, line := range strings.Split(ReadFile(path), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ReadFile returns a file's contents, or "" when it cannot be read.
func ReadFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(data)
}

// Output returns a command's trimmed stdout, or "unknown".
func Output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// StatusKB reads a kB field (VmRSS, VmHWM) of /proc/PID/status; pid may be
// "self". It returns 0 when the field cannot be read.
func StatusKB(pid, field string) int {
	for _, line := range strings.Split(ReadFile("/proc/"+pid+"/status"), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}
