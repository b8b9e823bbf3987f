package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// pseudonymDomain separates patient pseudonyms from any other use of the key.
const pseudonymDomain = "soteai.audit.patient.v1\x00"

// MinHMACKeyLen is the shortest accepted pseudonymisation key.
const MinHMACKeyLen = 32

// Pseudonymise returns the keyed pseudonym of a clear patient identifier:
// HMAC-SHA256(key, domain || normalised id), where normalising trims
// spaces and upper-cases, so a code typed in lower case or with stray spaces agrees. The
// same key must be used for the whole life of the log, or old records can
// no longer be found by patient. An empty id gives nil.
func Pseudonymise(key []byte, id string) Hash {
	id = strings.ToUpper(strings.TrimSpace(id))
	if id == "" {
		return nil
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(pseudonymDomain))
	m.Write([]byte(id))
	return m.Sum(nil)
}

// redactWith replaces personal identity codes in s with a short, keyed,
// non-reversible tag, so that metadata fields never hold one in clear.
func redactWith(key []byte, s string) string {
	return RedactHETU(s, func(h string) string {
		return "[hetu:" + hex.EncodeToString(Pseudonymise(key, h)[:6]) + "]"
	})
}
