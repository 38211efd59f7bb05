package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// urlBuilder makes the absolute URLs the API returns.
type urlBuilder struct {
	public     *url.URL // fixes scheme and host (and a path prefix) when set
	trustProxy bool     // believe X-Forwarded-Proto and X-Forwarded-Host
}

// base returns scheme://host[/prefix] for a request, without a trailing slash.
func (u urlBuilder) base(r *http.Request) string {
	if u.public != nil {
		return strings.TrimSuffix(u.public.String(), "/")
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if u.trustProxy {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// abs makes a URL absolute: a path gets the request's base, an absolute
// URL (from a CDN-backed store) is returned as is.
func (u urlBuilder) abs(r *http.Request, pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "/") {
		return u.base(r) + pathOrURL
	}
	return pathOrURL
}

// firstValue returns the first of a comma-separated header's values.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost accepts host[:port] made of the characters a DNS name, an IPv4
// or a bracketed IPv6 address can hold, so a forged Host header cannot
// inject anything into the URLs we hand out.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.:[]_", c) >= 0) {
			return false
		}
	}
	return true
}
