package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Route names of the report. Media are split in two because an original
// (hundreds of KB to MB) and a rendition (a few KB) cost the server very
// differently.
const (
	routeUpload    = "POST /api/products/{slug}/images/"
	routeCreate    = "POST /api/products/"
	routeDetail    = "GET /api/products/{slug}/"
	routeRendition = "GET /media/… (rendition)"
	routeOriginal  = "GET /media/… (original)"
)

// readRoutes are the routes of the read p99 target.
var readRoutes = []string{routeDetail, routeRendition, routeOriginal}

// maxRetries bounds how often one request is retried after 503 or 429
// with Retry-After before the client gives up on it.
const maxRetries = 20

// maxRetryWait caps one Retry-After, so that a wrong header cannot stall a
// client for the rest of the run.
const maxRetryWait = 30 * time.Second

// routeStats is what one client saw of one route. Each client goroutine
// keeps its own and they are merged at the end, so that 200 readers never
// contend on a lock while they are being timed.
type routeStats struct {
	OK       []time.Duration // latency of each 2xx answer, body read to the end
	Statuses map[int]int     // every answer by status, retried ones included
	NetErrs  int             // no answer at all: connection refused, reset, timeout
	Retried  map[int]int     // 503 and 429 answers with Retry-After that the client honoured
	BadRetry int             // 503 or 429 without a usable Retry-After: not retried
	GaveUp   int             // requests abandoned after maxRetries retries
	CutShort int             // of Retried, those not retried because the run was over
	// Failed counts the requests that did not succeed in the end: a final
	// answer that is not 2xx (an honoured 503 or 429 is not final) or no
	// answer. A retry cut short by the end of the run is not a failure.
	Failed int
	// ServerErrors counts the 5xx answers but the 503s with Retry-After
	// that the client honoured: the admission control design asks clients
	// to come back later, so those are the server working as meant.
	ServerErrors int
}

func newRouteStats() *routeStats {
	return &routeStats{Statuses: map[int]int{}, Retried: map[int]int{}}
}

func (s *routeStats) merge(o *routeStats) {
	s.OK = append(s.OK, o.OK...)
	for k, v := range o.Statuses {
		s.Statuses[k] += v
	}
	for k, v := range o.Retried {
		s.Retried[k] += v
	}
	s.NetErrs += o.NetErrs
	s.BadRetry += o.BadRetry
	s.GaveUp += o.GaveUp
	s.CutShort += o.CutShort
	s.Failed += o.Failed
	s.ServerErrors += o.ServerErrors
}

// stats is one client's routeStats by route.
type stats map[string]*routeStats

func (st stats) route(name string) *routeStats {
	rs := st[name]
	if rs == nil {
		rs = newRouteStats()
		st[name] = rs
	}
	return rs
}

func (st stats) merge(o stats) {
	for name, rs := range o {
		st.route(name).merge(rs)
	}
}

// percentile returns the p-th percentile (0 < p <= 1) of sorted by the
// nearest-rank method, or 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// client speaks vitrine's HTTP API with the admin token.
type client struct {
	base  string
	token string
	http  *http.Client
}

// newClient returns a client whose connections are kept and reused: a
// fresh TCP connection per request would cost the 2 shared cores more than
// the server's work on a small read.
func newClient(base, token string, conns int) *client {
	return &client{
		base:  base,
		token: token,
		http: &http.Client{
			Transport: &http.Transport{
				MaxIdleConns:        conns,
				MaxIdleConnsPerHost: conns,
				IdleConnTimeout:     time.Minute,
				DisableCompression:  true, // JSON is small and media are compressed already
			},
			// Generous: an upload may wait behind many others, and a
			// timeout here would be counted as a failure of the server.
			Timeout: 5 * time.Minute,
		},
	}
}

// send makes one request, timing it until the body has been read. A 503
// or 429 with Retry-After is retried after the wait it asks for, as the
// admission control design expects of clients, at most maxRetries times
// and not after run is done. It returns the last status (0 without an
// answer) and, when keep is set, the body of the last answer.
func (c *client) send(run context.Context, st stats, route, method, url string, body []byte, contentType string, keep bool) (int, []byte, error) {
	rs := st.route(route)
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		// The token is vitrine's: a presigned S3 URL carries its own
		// signature, and S3 refuses a request that brings two.
		if strings.HasPrefix(url, c.base+"/") {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		t0 := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			rs.NetErrs++
			rs.Failed++
			return 0, nil, err
		}
		var data []byte
		if keep {
			data, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		elapsed := time.Since(t0)
		if err != nil {
			rs.NetErrs++
			rs.Failed++
			return 0, nil, err
		}
		status := resp.StatusCode
		rs.Statuses[status]++
		if status >= 200 && status < 300 {
			rs.OK = append(rs.OK, elapsed)
			return status, data, nil
		}
		wait, ok := retryAfter(resp.Header.Get("Retry-After"))
		retryable := status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests
		if !retryable || !ok || attempt == maxRetries {
			rs.Failed++
			if status >= 500 {
				rs.ServerErrors++
			}
			switch {
			case !retryable:
				return status, data, nil
			case !ok:
				rs.BadRetry++
				return status, data, nil
			default:
				rs.GaveUp++
				return status, data, fmt.Errorf("%s %s: still refused after %d retries", method, url, maxRetries)
			}
		}
		// Counted as honoured even when the run ends before the retry:
		// the client did what the server asked.
		rs.Retried[status]++
		select {
		case <-run.Done():
			rs.CutShort++
			return status, data, nil
		case <-time.After(wait):
		}
	}
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, maxRetryWait), true
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), 0), maxRetryWait), true
	}
	return 0, false
}

// do is send for setup and checks, outside the timed run: it decodes a
// JSON answer into out (when not nil) and fails unless the status is want.
func (c *client) do(ctx context.Context, st stats, route, method, path string, body []byte, contentType string, want int, out any) error {
	status, data, err := c.send(ctx, st, route, method, c.base+path, body, contentType, true)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", method, path, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// createProduct creates a product with no image.
func (c *client) createProduct(ctx context.Context, st stats, slug string) error {
	body, err := json.Marshal(map[string]string{
		"name": "Load " + slug, "slug": slug, "description": "created by bench/load", "price": "9.99",
	})
	if err != nil {
		return err
	}
	return c.do(ctx, st, routeCreate, "POST", "/api/products/", body, "application/json", http.StatusCreated, nil)
}

// imageJSON is the part of the API's image that the load test reads.
type imageJSON struct {
	ID         int64  `json:"id"`
	ImageURL   string `json:"image_url"`
	Status     string `json:"status"`
	Renditions map[string]struct {
		URL string `json:"url"`
	} `json:"renditions"`
}

// renditionURLs returns the URLs of the image's renditions, sorted.
func (img imageJSON) renditionURLs() []string {
	var urls []string
	for _, rd := range img.Renditions {
		urls = append(urls, rd.URL)
	}
	slices.Sort(urls)
	return urls
}
