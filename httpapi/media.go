package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/vitrine/vitrine"
)

// handleMedia serves GET and HEAD /media/{key...} from the local store:
// the stored type only (from the key's extension, which vitrine chose from
// the sniffed bytes), nosniff, inline, cached for a year as immutable (keys
// are never reused), with an ETag, Range and conditional requests.
func handleMedia(log *slog.Logger, files fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		format := vitrine.FormatOfKey(key)
		if !vitrine.ValidKey(key) || format == "" {
			writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Not found."))
			return
		}
		f, err := files.Open(key)
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Not found."))
			return
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		rs, ok := f.(io.ReadSeeker)
		if !ok || st.IsDir() {
			writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Not found."))
			return
		}
		// The key names the content for ever, so it is a strong validator.
		sum := sha256.Sum256([]byte(key))
		h := w.Header()
		h.Set("Content-Type", format.ContentType())
		h.Set("Content-Disposition", "inline")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
		http.ServeContent(w, r, "", st.ModTime(), rs)
	})
}
