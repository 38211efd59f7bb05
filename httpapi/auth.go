package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/vitrine/vitrine"
)

type tokenVerifier interface {
	VerifyToken(ctx context.Context, hash []byte) (user string, err error)
}

type userKey struct{}

// userOf returns the authenticated user of a request, or "".
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
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
		user, err := tokens.VerifyToken(r.Context(), vitrine.HashToken(token))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

// requireUser refuses anonymous requests with 401 and a Bearer challenge
// (DRF's IsAuthenticatedOrReadOnly on a write).
func requireUser(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if userOf(r) == "" {
			writeError(w, r, log, vitrine.Errorf(vitrine.Unauthorized, "Authentication credentials were not provided."))
			return
		}
		next.ServeHTTP(w, r)
	})
}
