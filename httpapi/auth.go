package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/vitrine/vitrine"
)

type tokenVerifier interface {
	VerifyToken(ctx context.Context, hash []byte) (vitrine.Caller, error)
}

type callerKey struct{}

// callerOf returns who sent the request, or ok false when it is anonymous.
func callerOf(r *http.Request) (c vitrine.Caller, ok bool) {
	c, ok = r.Context().Value(callerKey{}).(vitrine.Caller)
	return c, ok
}

// authenticate reads "Authorization: Bearer <token>" as DRF's token
// authentication does: a request without a Bearer header is anonymous; a
// Bearer header with a bad token is refused with 401 on every method, so a
// misconfigured client hears about it on its first read.
func authenticate(log *slog.Logger, tokens tokenVerifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			next.ServeHTTP(w, r)
			return
		}
		token = strings.TrimSpace(token)
		switch {
		case token == "":
			writeError(w, r, log, vitrine.Errorf(vitrine.Unauthorized, "Invalid token header. No credentials provided."))
			return
		case strings.ContainsAny(token, " \t"):
			writeError(w, r, log, vitrine.Errorf(vitrine.Unauthorized, "Invalid token header. Token string should not contain spaces."))
			return
		}
		caller, err := tokens.VerifyToken(r.Context(), vitrine.HashToken(token))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

// requireScope refuses anonymous requests with 401 and a Bearer challenge
// (DRF's IsAuthenticatedOrReadOnly on a write), and tokens whose scope
// falls short with DRF's 403.
func requireScope(log *slog.Logger, need vitrine.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		switch {
		case !ok:
			writeError(w, r, log, vitrine.Errorf(vitrine.Unauthorized, "Authentication credentials were not provided."))
		case !c.Scope.Allows(need):
			writeError(w, r, log, vitrine.Errorf(vitrine.Forbidden, "You do not have permission to perform this action."))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
