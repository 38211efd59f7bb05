package vitrine

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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
