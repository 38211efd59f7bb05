package blob

import (
	"crypto/rand"
	"encoding/hex"
)

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:]) // never returns an error (crypto/rand documents this)
	return hex.EncodeToString(b[:])
}
