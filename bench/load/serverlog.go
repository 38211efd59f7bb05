package main

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"time"
)

// serverLatencies reads the server's JSON log and returns, by route of the
// report, the duration_ms of every request vitrine logged between from and
// to: the time inside its handlers. Beside the client's latency it shows
// where a slow answer waited: a client p99 far above the server's means
// the time went before the handler ran or after it returned (waiting for
// a core, the accept queue, the client itself), not to vitrine's work.
// targets name the media URLs of the readers, to tell originals from
// renditions.
func serverLatencies(logPath string, from, to time.Time, targets []readTarget) (map[string][]time.Duration, error) {
	route := map[string]string{} // path of a read: route of the report
	for _, t := range targets {
		route[urlPath(t.DetailURL)] = routeDetail
		for _, u := range t.Renditions {
			route[urlPath(u)] = routeRendition
		}
		for _, u := range t.Originals {
			route[urlPath(u)] = routeOriginal
		}
	}
	f, err := os.Open(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]time.Duration{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Time       time.Time `json:"time"`
			Msg        string    `json:"msg"`
			Method     string    `json:"method"`
			Path       string    `json:"path"`
			DurationMS float64   `json:"duration_ms"`
		}
		// Not every line is JSON (migrate prints text); skip those.
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "request" || line.Time.Before(from) || line.Time.After(to) {
			continue
		}
		name := ""
		switch {
		case line.Method == "GET":
			name = route[line.Path]
		case line.Method == "POST" && line.Path == "/api/products/":
			name = routeCreate
		case line.Method == "POST" && strings.HasSuffix(line.Path, "/images/"):
			name = routeUpload
		}
		if name != "" {
			out[name] = append(out[name], time.Duration(line.DurationMS*float64(time.Millisecond)))
		}
	}
	return out, sc.Err()
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}
