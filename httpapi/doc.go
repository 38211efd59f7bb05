// Package httpapi is vitrine's HTTP interface: the design note's REST API
// under /api/products/ (DRF's paths, field names, status codes and error
// shapes), the media files under /media/, the OpenAPI document and health
// checks. NewServer takes every dependency as an argument and returns one
// http.Handler; routes.go lists every route.
package httpapi
