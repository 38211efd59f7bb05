package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/vitrine/vitrine"
)

// encode writes v as the JSON body of a response with this status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The status line is gone already; all that is left is to stop.
		return
	}
}

// writeError is the only place an error becomes an HTTP status. It writes
// the body in the shape DRF clients expect: the field map of a validation
// error, {"error": msg} for the note's explicit 400s, {"detail": msg} for
// everything else. Internal errors are logged with the request and shown
// to the client as "internal error" only.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *vitrine.Error
	if !errors.As(err, &e) {
		e = &vitrine.Error{Kind: vitrine.Internal, Err: err}
	}
	status, body := http.StatusInternalServerError, any(map[string]string{"detail": "A server error occurred."})
	switch e.Kind {
	case vitrine.Invalid:
		status = http.StatusBadRequest
		body = map[string]string{"error": e.Message}
		if len(e.Fields) > 0 {
			body = e.Fields
		}
	case vitrine.Conflict:
		status, body = http.StatusConflict, map[string]string{"detail": e.Message}
		if len(e.Fields) > 0 {
			// DRF reports a unique violation as a validation error of the field.
			status, body = http.StatusBadRequest, e.Fields
		}
	case vitrine.Malformed:
		status, body = http.StatusBadRequest, map[string]string{"detail": e.Message}
	case vitrine.NotFound:
		status, body = http.StatusNotFound, map[string]string{"detail": e.Message}
	case vitrine.Unauthorized:
		status, body = http.StatusUnauthorized, map[string]string{"detail": e.Message}
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	case vitrine.TooLarge:
		status, body = http.StatusRequestEntityTooLarge, map[string]string{"detail": e.Message}
	case vitrine.Unsupported:
		status, body = http.StatusUnsupportedMediaType, map[string]string{"detail": e.Message}
	case vitrine.MethodNotAllowed:
		status, body = http.StatusMethodNotAllowed, map[string]string{"detail": e.Message}
	case vitrine.Unavailable:
		status, body = http.StatusServiceUnavailable, map[string]string{"detail": e.Message}
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	case vitrine.Forbidden:
		status, body = http.StatusForbidden, map[string]string{"detail": e.Message}
	case vitrine.Timeout:
		status, body = http.StatusRequestTimeout, map[string]string{"detail": e.Message}
		// The rest of the body is not worth waiting for.
		w.Header().Set("Connection", "close")
	case vitrine.Throttled:
		status, body = http.StatusTooManyRequests, map[string]string{"detail": e.Message}
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	default:
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Kind != vitrine.Internal && e.Err != nil {
		log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", e.Err)
	}
	encode(w, status, body)
}

// retryAfter formats a Retry-After header: whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
