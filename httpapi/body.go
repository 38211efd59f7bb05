package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"

	"github.com/vitrine/vitrine"
)

// Limits on the non-file part of a request body, as Django's
// DATA_UPLOAD_MAX_MEMORY_SIZE and DATA_UPLOAD_MAX_NUMBER_FIELDS intend.
const (
	maxFieldBytes = 1 << 20 // JSON, urlencoded and multipart text fields together
	maxParts      = 1000
	// maxPartHeaderBytes caps one part's header lines. mime/multipart takes
	// up to 10 MiB of them; a real browser's part header (name, filename,
	// Content-Type) is under 1 KiB, and Django reads at most 1 KiB. 8 KiB
	// leaves room for long file names.
	maxPartHeaderBytes = 8 << 10
)

// bodyLimits says what one route accepts in a body.
type bodyLimits struct {
	maxFiles      int    // file parts allowed; 0 for routes that take no files
	maxFileBytes  int64  // a file part beyond this is marked tooLarge and not kept
	tooManyFiles  string // the error when more than maxFiles file parts arrive
	tempDir       string
	objectMessage func(got string) error // the error for a JSON body that is not an object
}

// maxBytes is the cap on the whole body, enforced while reading.
func (l bodyLimits) maxBytes() int64 {
	return int64(l.maxFiles)*(l.maxFileBytes+64<<10) + maxFieldBytes + 64<<10
}

// receivedFile is one file part, streamed to a temporary file.
type receivedFile struct {
	field    string
	filename string // the client's base name, for messages only
	path     string // temporary file; "" when tooLarge
	size     int64
	tooLarge bool
}

// requestBody is a parsed request body: JSON values, or form values and
// files. Close removes the temporary files.
type requestBody struct {
	json  map[string]json.RawMessage // nil unless the body was JSON
	form  map[string][]string
	files map[string][]*receivedFile
}

func (b *requestBody) Close() {
	for _, fs := range b.files {
		for _, f := range fs {
			if f.path != "" {
				os.Remove(f.path)
			}
		}
	}
}

// filesOf returns the file parts under these field names, in order.
func (b *requestBody) filesOf(fields ...string) []*receivedFile {
	var out []*receivedFile
	for _, f := range fields {
		out = append(out, b.files[f]...)
	}
	return out
}

// readBody parses the body of r as JSON, multipart/form-data or
// application/x-www-form-urlencoded, capping its size while reading (413
// beyond the cap) and streaming file parts to temporary files, never the
// whole request into memory. An empty body needs no Content-Type.
func readBody(w http.ResponseWriter, r *http.Request, lim bodyLimits) (*requestBody, error) {
	b := &requestBody{form: map[string][]string{}, files: map[string][]*receivedFile{}}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return b, nil
	}
	ctype := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" {
		mt, err = "", nil
	}
	if err != nil {
		return nil, unsupportedType(ctype)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return b, readJSON(w, r, b, lim)
	case mt == "multipart/form-data":
		err := readMultipart(w, r, b, params["boundary"], lim)
		if err != nil {
			b.Close()
			return nil, err
		}
		return b, nil
	case mt == "application/x-www-form-urlencoded":
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFieldBytes))
		if err != nil {
			return nil, bodyError(err)
		}
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return nil, vitrine.Errorf(vitrine.Malformed, "Form parse error - %s", err)
		}
		b.form = vals
		return b, nil
	}
	return nil, unsupportedType(ctype)
}

func unsupportedType(ctype string) error {
	return vitrine.Errorf(vitrine.Unsupported, "Unsupported media type %q in request.", clipString(ctype, 100))
}

// bodyError turns a read error into the client's error: 413 when the body
// was over its cap, 400 when the client broke off.
func bodyError(err error) error {
	if errors.Is(err, errTooSlow) {
		return &vitrine.Error{Kind: vitrine.Timeout, Message: "The request body arrived too slowly.", Err: err}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &vitrine.Error{Kind: vitrine.TooLarge, Message: fmt.Sprintf("Request body too large: the limit is %d bytes.", tooBig.Limit), Err: err}
	}
	return &vitrine.Error{Kind: vitrine.Malformed, Message: "The request body could not be read.", Err: err}
}

func readJSON(w http.ResponseWriter, r *http.Request, b *requestBody, lim bodyLimits) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFieldBytes))
	if err != nil {
		return bodyError(err)
	}
	var raw json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return &vitrine.Error{Kind: vitrine.Malformed, Message: "JSON parse error - " + clipString(err.Error(), 200), Err: err}
	}
	if dec.More() {
		return vitrine.Errorf(vitrine.Malformed, "JSON parse error - extra data after the JSON value")
	}
	if raw[0] != '{' {
		if lim.objectMessage != nil {
			return lim.objectMessage(jsonTypeName(raw))
		}
		return notAnObject(jsonTypeName(raw))
	}
	// Keep each value's raw text: numbers must be read exactly (prices,
	// ids) and each field decodes the type it wants.
	if err := json.Unmarshal(raw, &b.json); err != nil {
		return &vitrine.Error{Kind: vitrine.Malformed, Message: "JSON parse error", Err: err}
	}
	return nil
}

// notAnObject is DRF's error for a body that is not a JSON object.
func notAnObject(got string) error {
	return &vitrine.Error{Kind: vitrine.Invalid, Fields: map[string][]string{
		"non_field_errors": {"Invalid data. Expected a dictionary, but got " + got + "."}}}
}

// jsonTypeName names a JSON value's type as Python would, from its first byte.
func jsonTypeName(raw json.RawMessage) string {
	switch raw[0] {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	return "int"
}

func readMultipart(w http.ResponseWriter, r *http.Request, b *requestBody, boundary string, lim bodyLimits) error {
	if boundary == "" {
		return vitrine.Errorf(vitrine.Malformed, "Multipart form parse error - Invalid boundary in multipart: None")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, lim.maxBytes()), boundary)
	fieldBytes, parts, files := 0, 0, 0
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return multipartError(err)
		}
		parts++
		if parts > maxParts {
			return vitrine.Errorf(vitrine.Malformed, "Multipart form parse error - more than %d parts.", maxParts)
		}
		if headerBytes(part.Header) > maxPartHeaderBytes {
			return vitrine.Errorf(vitrine.Malformed, "Multipart form parse error - a part header is over %d bytes.", maxPartHeaderBytes)
		}
		name := part.FormName()
		if name == "" {
			part.Close()
			continue
		}
		filename, isFile := fileName(part)
		if !isFile {
			data, err := io.ReadAll(io.LimitReader(part, int64(maxFieldBytes-fieldBytes)+1))
			if err != nil {
				return multipartError(err)
			}
			fieldBytes += len(data)
			if fieldBytes > maxFieldBytes {
				return vitrine.Errorf(vitrine.TooLarge, "Request body too large: form fields exceed %d bytes.", maxFieldBytes)
			}
			b.form[name] = append(b.form[name], string(data))
			continue
		}
		if filename == "" {
			// Django skips a file part without a name: it is "no file".
			if _, err := io.Copy(io.Discard, part); err != nil {
				return multipartError(err)
			}
			continue
		}
		files++
		if files > lim.maxFiles {
			return vitrine.Errorf(vitrine.Invalid, "%s", lim.tooManyFiles)
		}
		f, err := receiveFile(part, name, filename, lim)
		if err != nil {
			return err
		}
		b.files[name] = append(b.files[name], f)
	}
}

// headerBytes is the size of a part's header lines as sent: "Key: value"
// and CRLF each.
func headerBytes(h textproto.MIMEHeader) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// fileName returns the client's file name of a part and whether the part is
// a file at all (its Content-Disposition has a filename parameter).
func fileName(part *multipart.Part) (string, bool) {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	if err != nil {
		return "", false
	}
	name, ok := params["filename"]
	if !ok {
		return "", false
	}
	return vitrine.BaseName(name), true
}

// receiveFile streams one file part to a temporary file, keeping at most
// maxFileBytes+1 bytes: one more than allowed is enough to know it is too
// large, and the rest is read and dropped.
func receiveFile(part *multipart.Part, field, filename string, lim bodyLimits) (*receivedFile, error) {
	tmp, err := os.CreateTemp(lim.tempDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w", err)
	}
	f := &receivedFile{field: field, filename: filename, path: tmp.Name()}
	n, err := io.Copy(tmp, io.LimitReader(part, lim.maxFileBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > lim.maxFileBytes {
		f.tooLarge = true
		os.Remove(f.path)
		f.path = ""
		_, err = io.Copy(io.Discard, part)
	}
	f.size = n
	if err != nil {
		if f.path != "" {
			os.Remove(f.path)
		}
		return nil, multipartError(err)
	}
	return f, nil
}

func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || errors.Is(err, errTooSlow) {
		return bodyError(err)
	}
	var e *vitrine.Error
	if errors.As(err, &e) {
		return e
	}
	return &vitrine.Error{Kind: vitrine.Malformed, Message: "Multipart form parse error - " + clipString(err.Error(), 200), Err: err}
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
