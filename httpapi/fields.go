package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/vitrine/vitrine"
)

// fieldReader reads typed fields from a request body with DRF's rules and
// messages, collecting every field's error so that one response lists them
// all.
type fieldReader struct {
	body *requestBody
	errs map[string][]string
}

func newFieldReader(b *requestBody) *fieldReader {
	return &fieldReader{body: b, errs: map[string][]string{}}
}

func (f *fieldReader) fail(field, msg string) { f.errs[field] = append(f.errs[field], msg) }

// failErr records err's message (an Invalid *vitrine.Error) under field.
func (f *fieldReader) failErr(field string, err error) {
	var e *vitrine.Error
	if errors.As(err, &e) && e.Message != "" {
		f.fail(field, e.Message)
		return
	}
	f.fail(field, err.Error())
}

// err returns the collected errors as one Invalid error, or nil.
func (f *fieldReader) err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return &vitrine.Error{Kind: vitrine.Invalid, Fields: f.errs}
}

// requireAll records "This field is required." for each missing field.
func (f *fieldReader) require(fields ...string) {
	for _, name := range fields {
		if !f.present(name) {
			f.fail(name, "This field is required.")
		}
	}
}

// present reports whether the body carries the field at all.
func (f *fieldReader) present(name string) bool {
	if f.body.json != nil {
		_, ok := f.body.json[name]
		return ok
	}
	_, inForm := f.body.form[name]
	return inForm || len(f.body.files[name]) > 0
}

// raw returns a field's value as text and whether it was JSON null. JSON
// strings are unquoted; numbers keep their literal text; objects and arrays
// are refused by the caller through ok=false. Form fields give their last
// value, as Django's QueryDict does.
func (f *fieldReader) raw(name string) (text string, null, ok bool) {
	if f.body.json != nil {
		v := f.body.json[name]
		switch {
		case bytes.Equal(v, []byte("null")):
			return "", true, true
		case len(v) > 0 && v[0] == '"':
			var s string
			if json.Unmarshal(v, &s) != nil {
				return "", false, false
			}
			return s, false, true
		case len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9' || v[0] == 't' || v[0] == 'f'):
			return string(v), false, true
		}
		return "", false, false
	}
	vals := f.body.form[name]
	if len(vals) == 0 {
		return "", false, true
	}
	return vals[len(vals)-1], false, true
}

// str reads a CharField: nil when absent. JSON numbers are accepted as
// their text (DRF does the same); booleans, lists, objects and null are not.
func (f *fieldReader) str(name string, maxLen int, allowBlank bool) *string {
	if !f.present(name) {
		return nil
	}
	text, null, ok := f.raw(name)
	if f.body.json != nil && ok && !null && len(f.body.json[name]) > 0 && (f.body.json[name][0] == 't' || f.body.json[name][0] == 'f') {
		ok = false
	}
	switch {
	case null:
		f.fail(name, "This field may not be null.")
		return nil
	case !ok:
		f.fail(name, "Not a valid string.")
		return nil
	}
	text = strings.TrimSpace(text) // DRF's CharField trims whitespace
	if text == "" && !allowBlank {
		f.fail(name, "This field may not be blank.")
		return nil
	}
	if err := vitrine.CheckText(text, maxLen); err != nil {
		f.failErr(name, err)
		return nil
	}
	return &text
}

// boolean reads a BooleanField with DRF's accepted spellings.
func (f *fieldReader) boolean(name string) *bool {
	if !f.present(name) {
		return nil
	}
	text, null, ok := f.raw(name)
	if null {
		f.fail(name, "This field may not be null.")
		return nil
	}
	switch strings.ToLower(text) {
	case "true", "t", "yes", "y", "on", "1":
		if ok {
			v := true
			return &v
		}
	case "false", "f", "no", "n", "off", "0":
		if ok {
			v := false
			return &v
		}
	}
	f.fail(name, "Must be a valid boolean.")
	return nil
}

// integer reads an IntegerField within lo..hi. Like DRF it accepts "5" and
// "5.0" but not "5.5", "1e3" or a boolean.
func (f *fieldReader) integer(name string, lo, hi int) *int {
	if !f.present(name) {
		return nil
	}
	text, null, ok := f.raw(name)
	if null {
		f.fail(name, "This field may not be null.")
		return nil
	}
	text = strings.TrimSpace(text)
	if whole, frac, found := strings.Cut(text, "."); found && strings.Trim(frac, "0") == "" {
		text = whole
	}
	n, err := strconv.ParseInt(text, 10, 64)
	switch {
	case !ok || err != nil && !isRangeErr(err):
		f.fail(name, "A valid integer is required.")
		return nil
	case err != nil && strings.HasPrefix(text, "-") || err == nil && n < int64(lo):
		f.fail(name, "Ensure this value is greater than or equal to "+strconv.Itoa(lo)+".")
		return nil
	case err != nil || n > int64(hi):
		f.fail(name, "Ensure this value is less than or equal to "+strconv.Itoa(hi)+".")
		return nil
	}
	v := int(n)
	return &v
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// price reads the product's DecimalField. JSON null clears the price, so
// the result says whether the field was present and, if so, its value.
func (f *fieldReader) price(name string) (set bool, p *vitrine.Price) {
	if !f.present(name) {
		return false, nil
	}
	text, null, ok := f.raw(name)
	if null {
		return true, nil
	}
	if !ok || f.body.json != nil && (text == "true" || text == "false") {
		f.fail(name, "A valid number is required.")
		return false, nil
	}
	if f.body.json == nil && strings.TrimSpace(text) == "" {
		return true, nil // an empty form field clears an optional decimal
	}
	v, err := vitrine.ParsePrice(text)
	if err != nil {
		f.failErr(name, err)
		return false, nil
	}
	return true, &v
}

// slug reads the product's SlugField.
func (f *fieldReader) slug(name string) *vitrine.Slug {
	s := f.str(name, 0, false)
	if s == nil {
		return nil
	}
	slug, err := vitrine.ParseSlug(*s)
	if err != nil {
		f.failErr(name, err)
		return nil
	}
	return &slug
}

// asFieldError files an Invalid error's message under field.
func asFieldError(field string, err error) error {
	var e *vitrine.Error
	if errors.As(err, &e) && e.Kind == vitrine.Invalid && e.Message != "" {
		return vitrine.FieldError(field, e.Message)
	}
	return err
}
