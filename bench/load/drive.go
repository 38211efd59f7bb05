package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// imagesPerProduct is how many images an uploader puts in one product
// before it creates the next: below the default limit of 50 per product,
// so that no upload is refused for a full gallery.
const imagesPerProduct = 40

// mediaPerPage is how many media files a reader fetches after each product
// page, as a browser fetches the pictures of the page it shows.
const mediaPerPage = 2

// originalEvery makes one page in this many also fetch an original (a
// zoom), the rest fetch renditions only: storefronts show renditions.
const originalEvery = 10

// upload is an image the server accepted with 201.
type upload struct {
	Slug string
	ID   int64
}

// readTarget is a product that readers read, with its media URLs as the
// API gave them.
type readTarget struct {
	Slug       string
	DetailURL  string
	Renditions []string
	Originals  []string
}

// seedReadTargets creates n products of perProduct gallery images each,
// waits until every image is ready and collects the media URLs from the
// product detail, so that readers fetch what a storefront would.
func seedReadTargets(ctx context.Context, c *client, st stats, prefix string, n, perProduct int, photos []photo, timeout time.Duration) ([]readTarget, error) {
	var uploads []upload
	for i := range n {
		slug := fmt.Sprintf("%s-read-%02d", prefix, i+1)
		if err := c.createProduct(ctx, st, slug); err != nil {
			return nil, err
		}
		for j := range perProduct {
			p := photos[(i+j)%len(photos)]
			var img imageJSON
			if err := c.do(ctx, st, routeUpload, "POST", "/api/products/"+slug+"/images/", p.body(fmt.Sprintf("%s image %d", slug, j+1)), p.ContentType, http.StatusCreated, &img); err != nil {
				return nil, err
			}
			uploads = append(uploads, upload{slug, img.ID})
		}
	}
	res := waitRendered(ctx, c, uploads, timeout)
	if res.Pending > 0 || res.Failed > 0 || res.Missing > 0 {
		return nil, fmt.Errorf("read targets not ready after %s: %d pending, %d failed, %d missing", timeout, res.Pending, res.Failed, res.Missing)
	}
	targets := make([]readTarget, n)
	for i := range n {
		slug := fmt.Sprintf("%s-read-%02d", prefix, i+1)
		var product struct {
			Images []imageJSON `json:"images"`
		}
		if err := c.do(ctx, st, routeDetail, "GET", "/api/products/"+slug+"/", nil, "", http.StatusOK, &product); err != nil {
			return nil, err
		}
		t := readTarget{Slug: slug, DetailURL: c.base + "/api/products/" + slug + "/"}
		for _, img := range product.Images {
			t.Originals = append(t.Originals, img.ImageURL)
			t.Renditions = append(t.Renditions, img.renditionURLs()...)
		}
		for _, u := range append(t.Originals, t.Renditions...) {
			if err := checkLoopback(u); err != nil {
				return nil, err
			}
		}
		if len(t.Originals) == 0 || len(t.Renditions) == 0 {
			return nil, fmt.Errorf("product %s: no original or no rendition in its detail", slug)
		}
		targets[i] = t
	}
	return targets, nil
}

// checkLoopback refuses a media URL off this machine (S3 storage behind a
// real bucket or CDN): the load test stays on loopback.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return nil
	}
	return fmt.Errorf("media URL %s is not on loopback; the load test only drives this machine", raw)
}

// onNode returns a copy of targets with every URL on base from moved to
// base to. The API answers absolute URLs on the node it was asked (node 0
// in the setup); a reader of node i reads through node i. URLs elsewhere,
// such as a bucket's presigned URLs, stay as they are.
func onNode(targets []readTarget, from, to string) []readTarget {
	move := func(u string) string {
		if rest, ok := strings.CutPrefix(u, from+"/"); ok {
			return to + "/" + rest
		}
		return u
	}
	moved := make([]readTarget, len(targets))
	for i, t := range targets {
		m := readTarget{Slug: t.Slug, DetailURL: move(t.DetailURL)}
		for _, u := range t.Renditions {
			m.Renditions = append(m.Renditions, move(u))
		}
		for _, u := range t.Originals {
			m.Originals = append(m.Originals, move(u))
		}
		moved[i] = m
	}
	return moved
}

// driveOptions is the load of the timed run.
type driveOptions struct {
	Duration   time.Duration
	Uploaders  int
	Readers    int
	Think      time.Duration // mean pause of a reader between pages
	MaxUploads int           // bound on upload attempts, whatever the duration
	Prefix     string        // of the slugs of the products the uploaders create
}

// driveResult is what the timed run measured.
type driveResult struct {
	Stats    stats
	Uploads  []upload      // accepted (201)
	Attempts int           // uploads started, retries not counted
	Elapsed  time.Duration // from the start until the last client returned
	Pages    int64         // product pages the readers read
}

// drive runs the uploaders and readers for o.Duration, uploader and
// reader i on clients[i % len(clients)], one client per node. Requests in
// flight at the end are let finish; no new one starts.
func drive(ctx context.Context, clients []*client, photos []photo, targets []readTarget, o driveOptions) driveResult {
	run, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var (
		mu       sync.Mutex // guards res.Stats, res.Uploads
		res      = driveResult{Stats: stats{}}
		started  atomic.Int64
		accepted atomic.Int64
		pages    atomic.Int64
		wg       sync.WaitGroup
	)
	nodeTargets := make([][]readTarget, len(clients))
	for n, c := range clients {
		nodeTargets[n] = onNode(targets, clients[0].base, c.base)
	}
	t0 := time.Now()
	for i := range o.Uploaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, ups := stats{}, []upload(nil)
			uploader(run, clients[i%len(clients)], i, photos, o, &started, &accepted, st, &ups)
			mu.Lock()
			res.Stats.merge(st)
			res.Uploads = append(res.Uploads, ups...)
			mu.Unlock()
		}()
	}
	for i := range o.Readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stats{}
			n := i % len(clients)
			reader(run, clients[n], i, nodeTargets[n], o.Think, &pages, st)
			mu.Lock()
			res.Stats.merge(st)
			mu.Unlock()
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			progress("t=%3.0fs uploads accepted %d, product pages read %d", time.Since(t0).Seconds(), accepted.Load(), pages.Load())
		}
	}
	res.Elapsed = time.Since(t0)
	res.Attempts = int(min(started.Load(), int64(o.MaxUploads)))
	res.Pages = pages.Load()
	return res
}

// uploader uploads photos in turn as gallery images until run is done or
// o.MaxUploads uploads have started, creating a product of its own every
// imagesPerProduct images.
func uploader(run context.Context, c *client, i int, photos []photo, o driveOptions, started, accepted *atomic.Int64, st stats, ups *[]upload) {
	slug, inProduct, products := "", imagesPerProduct, 0
	for k := 0; run.Err() == nil; k++ {
		if inProduct >= imagesPerProduct {
			products++
			slug = fmt.Sprintf("%s-up%02d-%03d", o.Prefix, i+1, products)
			if err := c.createProduct(run, st, slug); err != nil {
				progress("uploader %d: %v", i+1, err)
				sleep(run, time.Second)
				continue
			}
			inProduct = 0
		}
		if started.Add(1) > int64(o.MaxUploads) {
			return
		}
		p := photos[(i+k)%len(photos)]
		body := p.body(fmt.Sprintf("%s upload %d", slug, k+1))
		status, data, err := c.send(run, st, routeUpload, "POST", c.base+"/api/products/"+slug+"/images/", body, p.ContentType, true)
		switch {
		case err != nil:
			progress("uploader %d: %v", i+1, err)
		case status == http.StatusCreated:
			var img imageJSON
			if err := json.Unmarshal(data, &img); err != nil || img.ID == 0 {
				progress("uploader %d: 201 without an image id: %.200s", i+1, data)
				continue
			}
			*ups = append(*ups, upload{slug, img.ID})
			accepted.Add(1)
			inProduct++
		case status == http.StatusBadRequest:
			// Most likely a full gallery (another limit than ours): move
			// on to a new product rather than repeat the refusal.
			progress("uploader %d: 400: %.200s", i+1, data)
			inProduct = imagesPerProduct
		}
	}
}

// reader reads product pages as a storefront's visitors do: the product
// detail, then mediaPerPage media files (renditions, and an original on
// one page in originalEvery), then a pause of 0 to 2*think.
func reader(run context.Context, c *client, i int, targets []readTarget, think time.Duration, pages *atomic.Int64, st stats) {
	rng := rand.New(rand.NewPCG(uint64(i), 0x726561646572))
	// Readers arrive spread over one pause, as the visitors of a shop
	// that is already open do: 200 first pages in the same millisecond
	// would measure a start-up burst that no steady load has.
	if think > 0 {
		sleep(run, time.Duration(rng.Int64N(int64(2*think))))
	}
	for page := 0; run.Err() == nil; page++ {
		t := targets[rng.IntN(len(targets))]
		c.send(run, st, routeDetail, "GET", t.DetailURL, nil, "", false)
		for j := range mediaPerPage {
			if page%originalEvery == 0 && j == 0 {
				c.send(run, st, routeOriginal, "GET", t.Originals[rng.IntN(len(t.Originals))], nil, "", false)
			} else {
				c.send(run, st, routeRendition, "GET", t.Renditions[rng.IntN(len(t.Renditions))], nil, "", false)
			}
		}
		pages.Add(1)
		if think > 0 {
			sleep(run, time.Duration(rng.Int64N(int64(2*think))))
		}
	}
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// progress reports on stderr; stdout holds only the report.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}
