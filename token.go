package vitrine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// TokenPrefix starts every API token, so that secret scanners and people
// recognize one.
const TokenPrefix = "vt_"

// NewToken returns a new API token made of 32 random bytes and the SHA-256
// hash under which it is stored. The token itself is never stored.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	rand.Read(b[:]) // never returns an error (crypto/rand documents this)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the SHA-256 of a token, the form tokens are stored and
// looked up in.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Scope is what a token may do. Each scope includes the ones before it.
type Scope string

const (
	ScopeRead  Scope = "read"  // read the API (what anonymous clients can, plus a known identity)
	ScopeWrite Scope = "write" // create, change and delete products and images
	ScopeAdmin Scope = "admin" // write, and exempt from the write rate limits
)

// ParseScope returns the scope named s.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeRead, ScopeWrite, ScopeAdmin:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q (want read, write or admin)", s)
}

// Allows reports whether a token of scope s may do what needs scope need.
func (s Scope) Allows(need Scope) bool {
	rank := map[Scope]int{ScopeRead: 1, ScopeWrite: 2, ScopeAdmin: 3}
	return rank[s] >= rank[need] && rank[need] > 0
}

// Caller is who sent a request with a valid token.
type Caller struct {
	TokenID int64
	User    string
	Scope   Scope
}
