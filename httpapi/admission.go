package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/vitrine/vitrine"
)

// Admission bounds the upload work one node takes on at once.
type Admission struct {
	// MaxUploads is how many upload requests (multipart bodies) are read
	// and checked at once; 0 means no limit.
	MaxUploads int
	// QueueWait is how long an upload over MaxUploads waits for a turn
	// before it gets 503 with Retry-After.
	QueueWait time.Duration
	// MaxChecks is how many received files are decoded at once to prove
	// they are whole; 0 means no limit. Receiving is cheap and waits on
	// the network, so many uploads may arrive at once; decoding is CPU,
	// and every decode running beside the readers' requests lengthens
	// their wait for a core.
	MaxChecks int
	// MinUploadRate (bytes per second) cuts off a request body that
	// arrives slower, on average, once MinRateGrace has passed; 0 turns
	// the cutoff off.
	MinUploadRate int64
	MinRateGrace  time.Duration
}

// uploadGate lets at most cap(slots) uploads in at once. Uploads are
// streamed to disk, so what it bounds is the header probes, the reduced
// decodes that verify each file and the temporary disk space; rendering has
// its own memory budget in the job runner.
type uploadGate struct {
	log   *slog.Logger
	slots chan struct{} // nil: no limit
	wait  time.Duration
}

func newUploadGate(log *slog.Logger, a Admission) *uploadGate {
	g := &uploadGate{log: log, wait: a.QueueWait}
	if a.MaxUploads > 0 {
		g.slots = make(chan struct{}, a.MaxUploads)
	}
	return g
}

// wrap admits multipart requests through the gate; other requests pass.
func (g *uploadGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); g.slots == nil || mt != "multipart/form-data" {
			next.ServeHTTP(w, r)
			return
		}
		timer := time.NewTimer(g.wait)
		defer timer.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-timer.C:
			writeError(w, r, g.log, &vitrine.Error{Kind: vitrine.Unavailable, RetryAfter: 2 * time.Second,
				Message: "Too many uploads in progress; try again shortly."})
			return
		case <-r.Context().Done():
			return // the client left
		}
		defer func() { <-g.slots }()
		next.ServeHTTP(w, r)
	})
}

// errTooSlow is what a body read returns once the client fell under the
// minimum upload rate.
var errTooSlow = errors.New("request body arrived too slowly")

// minRate cuts off request bodies that trickle in: every read moves the
// connection's read deadline to when the bytes received so far would have
// arrived at the minimum rate, plus the grace period. A client that stalls
// or drips hits the deadline; one that keeps up never notices. (The
// server's own ReadTimeout would cut off slow but honest uploads of large
// files instead.)
func minRate(a Admission, next http.Handler) http.Handler {
	if a.MinUploadRate <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			b := &rateBody{ReadCloser: r.Body, rc: rc, start: time.Now(), rate: a.MinUploadRate, grace: a.MinRateGrace}
			// Not every ResponseWriter has a connection (tests); then there
			// is nothing to cut off.
			if rc.SetReadDeadline(b.deadline()) == nil {
				r.Body = b
			}
		}
		next.ServeHTTP(w, r)
	})
}

type rateBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	n     int64
	rate  int64
	grace time.Duration
}

func (b *rateBody) deadline() time.Time {
	return b.start.Add(b.grace + time.Duration(float64(b.n)/float64(b.rate)*float64(time.Second)))
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, errTooSlow
	}
	if n > 0 && err == nil {
		b.rc.SetReadDeadline(b.deadline())
	}
	return n, err
}
