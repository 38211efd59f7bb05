package vitrine

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an Error; httpapi maps each Kind to one HTTP status.
type Kind uint8

const (
	Internal         Kind = iota // anything unclassified; clients see "internal error"
	Invalid                      // the request is well formed but its content is wrong (400)
	NotFound                     // no such product, image or route (404)
	Conflict                     // a uniqueness rule was broken (400 with Fields, else 409)
	Unauthorized                 // missing or bad credentials (401)
	TooLarge                     // the request body is over its limit (413)
	Unsupported                  // a Content-Type the route does not parse (415)
	Malformed                    // the body cannot be parsed at all, e.g. broken JSON (400)
	MethodNotAllowed             // the path exists but not for this method (405)
	Unavailable                  // the server cannot take the request now (503)
	Forbidden                    // the credentials are good but do not allow this (403)
	Throttled                    // the client sent too many requests (429)
	Timeout                      // the client sent its request too slowly (408)
	// append new kinds at the end
)

// Error is the one error type that crosses package boundaries toward the
// client. Message (and Fields) are safe to show; Err is the cause and is only
// logged.
type Error struct {
	Kind    Kind
	Message string
	// Fields carries per-field validation messages, DRF style:
	// {"image": ["Upload a valid image."]}. When set, it is the response body.
	Fields map[string][]string
	Err    error
	// RetryAfter tells a Throttled or Unavailable client when to try again
	// (zero: one second).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && len(e.Fields) > 0 {
		msg = fmt.Sprint(e.Fields)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a client-safe message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid *Error with one message for one field.
func FieldError(field, msg string) *Error {
	return &Error{Kind: Invalid, Fields: map[string][]string{field: {msg}}}
}

// KindOf returns the Kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// IsNotFound reports whether err is, or wraps, a NotFound *Error.
func IsNotFound(err error) bool { return err != nil && KindOf(err) == NotFound }
