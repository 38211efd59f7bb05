package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// renderResult is where every accepted upload stands after the wait.
type renderResult struct {
	Ready   int
	Failed  int // status "failed"
	Pending int // still pending when the wait timed out
	Missing int // 201 was answered, but the image is not in its product's list
	Elapsed time.Duration
}

// waitRendered polls each product's image list every second until every
// upload is ready or failed, or timeout passes. Rendering lags uploads by
// design (they queue durably), so this is how long the queue took to drain.
func waitRendered(ctx context.Context, c *client, uploads []upload, timeout time.Duration) renderResult {
	t0 := time.Now()
	bySlug := map[string][]int64{}
	for _, u := range uploads {
		bySlug[u.Slug] = append(bySlug[u.Slug], u.ID)
	}
	slugs := make([]string, 0, len(bySlug))
	for s := range bySlug {
		slugs = append(slugs, s)
	}
	slices.Sort(slugs)
	status := map[int64]string{} // last status seen of each upload
	st := stats{}                // not reported: the wait is not load
	lastNote := time.Now()
	for {
		res := renderResult{}
		for _, slug := range slugs {
			ids := bySlug[slug]
			if !anyPending(ids, status) {
				continue
			}
			var list []imageJSON
			err := c.do(ctx, st, "list", "GET", "/api/products/"+slug+"/images/", nil, "", http.StatusOK, &list)
			if err != nil {
				progress("wait for renders: %v", err)
				continue
			}
			seen := map[int64]string{}
			for _, img := range list {
				seen[img.ID] = img.Status
			}
			for _, id := range ids {
				if s, ok := seen[id]; ok {
					status[id] = s
				} else {
					status[id] = "missing"
				}
			}
		}
		for _, u := range uploads {
			switch status[u.ID] {
			case "ready":
				res.Ready++
			case "failed":
				res.Failed++
			case "missing":
				res.Missing++
			default:
				res.Pending++
			}
		}
		res.Elapsed = time.Since(t0)
		if res.Pending == 0 || res.Elapsed > timeout || ctx.Err() != nil {
			return res
		}
		if time.Since(lastNote) >= 10*time.Second {
			progress("wait for renders: %d of %d ready after %.0f s", res.Ready, len(uploads), res.Elapsed.Seconds())
			lastNote = time.Now()
		}
		sleep(ctx, time.Second)
	}
}

// anyPending reports whether one of ids has no final status yet.
func anyPending(ids []int64, status map[int64]string) bool {
	for _, id := range ids {
		if s := status[id]; s != "ready" && s != "failed" {
			return true
		}
	}
	return false
}

// fileCheck is what a GET of every accepted image and a HEAD of each of
// its files found.
type fileCheck struct {
	Images        int // images checked
	ImageGone     int // GET /api/products/{slug}/images/{id}/ did not answer 200
	OriginalGone  int // the original's URL did not answer 200
	RenditionGone int // a rendition's URL did not answer 200
	Renditions    int // rendition files checked
	NotReady      int // the image was not ready when checked
	FirstProblem  string
	mu            sync.Mutex // guards the counts while the checks run
}

// problem keeps the first problem found, to show how to look into it.
func (fc *fileCheck) problem(format string, args ...any) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.FirstProblem == "" {
		fc.FirstProblem = fmt.Sprintf(format, args...)
	}
}

// checkFiles fetches every accepted image from the API and asks for each
// of its files, with a few requests at a time.
func checkFiles(ctx context.Context, c *client, uploads []upload) *fileCheck {
	fc := &fileCheck{}
	work := make(chan upload)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stats{}
			for u := range work {
				var img imageJSON
				path := fmt.Sprintf("/api/products/%s/images/%d/", u.Slug, u.ID)
				if err := c.do(ctx, st, "image", "GET", path, nil, "", http.StatusOK, &img); err != nil {
					fc.mu.Lock()
					fc.ImageGone++
					fc.mu.Unlock()
					fc.problem("image %d of %s: %v", u.ID, u.Slug, err)
					continue
				}
				originalOK := head(ctx, c, st, img.ImageURL)
				var renditions, gone int
				for _, u := range img.renditionURLs() {
					renditions++
					if !head(ctx, c, st, u) {
						gone++
					}
				}
				fc.mu.Lock()
				fc.Images++
				fc.Renditions += renditions
				fc.RenditionGone += gone
				if !originalOK {
					fc.OriginalGone++
				}
				if img.Status != "ready" {
					fc.NotReady++
				}
				fc.mu.Unlock()
				if !originalOK || gone > 0 {
					fc.problem("image %d of %s: original served %v, %d of %d renditions missing", u.ID, u.Slug, originalOK, gone, renditions)
				}
			}
		}()
	}
	for _, u := range uploads {
		work <- u
	}
	close(work)
	wg.Wait()
	return fc
}

// head reports whether the file at url is served: a HEAD answers 200. A
// presigned S3 URL is signed for GET only (the method is part of the
// signature), so there a GET of its first byte must answer 206 (or 200
// from a server that ignores Range).
func head(ctx context.Context, c *client, st stats, rawURL string) bool {
	if !presigned(rawURL) {
		status, _, err := c.send(ctx, st, "head", "HEAD", rawURL, nil, "", false)
		return err == nil && status == http.StatusOK
	}
	req, err := http.NewRequestWithContext(ctx, "GET", rawURL, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusPartialContent || resp.StatusCode == http.StatusOK
}

// presigned reports whether raw is a presigned S3 URL (signature version 4
// in the query, as VITRINE_MEDIA_SIGNED=1 makes them).
func presigned(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Query().Get("X-Amz-Signature") != ""
}
