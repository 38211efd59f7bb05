// Package admin holds vitrine's admin page: static files (HTML, CSS and
// JavaScript modules, no build step) embedded in the binary, so building
// or running vitrine never needs Node. The page talks to the same REST API
// as every client, with an API token the user types in.
package admin

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the page's files, rooted at the page's directory.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // "static" is embedded above: it cannot be missing
	}
	return sub
}
