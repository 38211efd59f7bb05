package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vitrine/vitrine"
)

// RateLimits caps write requests per minute, per token and per client IP.
// Zero turns a limit off. The counts are kept by each node: with several
// nodes behind a balancer, a client may get up to that many times more.
type RateLimits struct {
	PerToken int
	PerIP    int
}

// buckets is a set of token buckets, one per key, each refilled at
// perMinute/60 a second and holding at most burst. Full buckets are
// forgotten, so the set only holds clients active in the last minutes.
type buckets struct {
	mu        sync.Mutex
	perMinute int
	burst     float64
	now       func() time.Time
	m         map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// newBuckets returns the buckets of a limit of perMinute, which lets a
// client send a burst of a sixth of a minute's worth (at least 5) at once.
func newBuckets(perMinute int, now func() time.Time) *buckets {
	return &buckets{perMinute: perMinute, burst: float64(max(perMinute/6, 5)), now: now, m: map[string]*bucket{}}
}

// take spends one request of key's bucket. When it is empty it returns
// false and how long until the next request would be allowed.
func (b *buckets) take(key string) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	rate := float64(b.perMinute) / 60 // per second
	if now.Sub(b.lastPrune) > time.Minute {
		for k, bk := range b.m {
			if bk.tokens+now.Sub(bk.at).Seconds()*rate >= b.burst {
				delete(b.m, k)
			}
		}
		b.lastPrune = now
	}
	bk := b.m[key]
	if bk == nil {
		bk = &bucket{tokens: b.burst, at: now}
		b.m[key] = bk
	}
	bk.tokens = min(b.burst, bk.tokens+now.Sub(bk.at).Seconds()*rate)
	bk.at = now
	if bk.tokens < 1 {
		return false, time.Duration((1 - bk.tokens) / rate * float64(time.Second))
	}
	bk.tokens--
	return true, 0
}

// limiter applies RateLimits to write requests.
type limiter struct {
	log        *slog.Logger
	trustProxy bool
	perToken   *buckets // nil: no limit
	perIP      *buckets
}

func newLimiter(log *slog.Logger, l RateLimits, trustProxy bool, now func() time.Time) *limiter {
	lim := &limiter{log: log, trustProxy: trustProxy}
	if l.PerToken > 0 {
		lim.perToken = newBuckets(l.PerToken, now)
	}
	if l.PerIP > 0 {
		lim.perIP = newBuckets(l.PerIP, now)
	}
	return lim
}

// wrap answers 429 with Retry-After to a client over its limits. Tokens of
// the admin scope are exempt. Anonymous and refused requests count against
// their IP too, so that guessing at the write routes is throttled as well.
func (l *limiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		if ok && c.Scope == vitrine.ScopeAdmin {
			next.ServeHTTP(w, r)
			return
		}
		if l.perIP != nil {
			if ok, wait := l.perIP.take(clientIP(r, l.trustProxy)); !ok {
				writeError(w, r, l.log, &vitrine.Error{Kind: vitrine.Throttled, RetryAfter: wait,
					Message: "Request was throttled. Expected available in " + seconds(wait) + " seconds."})
				return
			}
		}
		if l.perToken != nil && ok {
			if ok, wait := l.perToken.take(strconv.FormatInt(c.TokenID, 10)); !ok {
				writeError(w, r, l.log, &vitrine.Error{Kind: vitrine.Throttled, RetryAfter: wait,
					Message: "Request was throttled. Expected available in " + seconds(wait) + " seconds."})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// seconds formats a wait the way DRF's throttle message does: whole
// seconds, rounded up.
func seconds(d time.Duration) string {
	return retryAfter(d)
}

// clientIP is the address the request came from: the peer, or behind a
// trusted proxy the last address the proxy appended to X-Forwarded-For
// (earlier ones are whatever the client claimed).
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
