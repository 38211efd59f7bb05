package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine/httpapi"
)

// TestMetricsAndRequestIDs uploads one good and one refused file and reads
// /metrics: requests by route pattern, uploads by outcome and reason, the
// wait for a decode slot, render durations. The request id the client sent comes back, and rides
// into the render job's metadata.
func TestMetricsAndRequestIDs(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) { c.Admission.MaxChecks = 1 })
	slug := s.createProduct("m")
	body, ctype := multipartBody(t, nil, []upload{{"image", "a.png", makePNG(t, 300, 200)}})
	r := s.serve(request{method: "POST", path: "/api/products/" + slug + "/images/", body: body, ctype: ctype,
		header: http.Header{"X-Request-Id": {"req-trace-42"}}}).want(http.StatusCreated)
	if got := r.Header().Get("X-Request-Id"); got != "req-trace-42" {
		t.Fatalf("got X-Request-Id %q, want the client's", got)
	}
	s.waitStatus(slug, r.obj()["id"])
	s.sendMultipart("POST", "/api/products/"+slug+"/images/", nil, upload{"image", "a.gif", makeGIF(t, 10, 10)}).want(http.StatusBadRequest)

	var meta string
	if err := s.pool.Read.QueryRow(`SELECT metadata FROM river_job WHERE kind = 'render_image'`).Scan(&meta); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(meta, "req-trace-42") {
		t.Fatalf("render job metadata %s lacks the request id", meta)
	}

	// Job attempts are counted from River's events, a moment after the
	// image is marked ready.
	text := s.get("/metrics").want(http.StatusOK).Body.String()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(text, `outcome="completed"`) && time.Now().Before(deadline); {
		select {
		case <-s.events:
		case <-time.After(50 * time.Millisecond):
		}
		text = s.get("/metrics").want(http.StatusOK).Body.String()
	}
	for _, want := range []string{
		`vitrine_uploads_total{outcome="stored",reason=""} 1`,
		`vitrine_uploads_total{outcome="rejected",reason="extension"} 1`,
		`vitrine_http_request_duration_seconds_count{method="POST",route="/api/products/{slug}/images/{$}",status="201"} 1`,
		`vitrine_http_request_duration_seconds_count{method="POST",route="/api/products/{slug}/images/{$}",status="400"} 1`,
		`vitrine_upload_check_wait_seconds_count 1`, // the refused file was never decoded
		`vitrine_render_duration_seconds_count{renditions="all"} 1`,
		`vitrine_job_attempts_total{kind="render_image",outcome="completed"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
