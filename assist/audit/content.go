package audit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// contentDomain binds a ciphertext to what it is (input or output) and to
// the SHA-256 the record holds, so ciphertexts cannot be swapped unnoticed.
const contentDomain = "soteai.audit.content.v1\x00"

// Content is the decrypted input and output of a record.
type Content struct {
	Seq       int64
	Input     []byte
	Output    []byte
	ExpiresAt time.Time
}

// sealer encrypts content with AES-256-GCM.
type sealer struct {
	aead  cipher.AEAD
	keyID string
}

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("content key must be 32 bytes (AES-256), got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(append([]byte("soteai.audit.content-key.v1\x00"), key...))
	return &sealer{aead: aead, keyID: hex.EncodeToString(id[:8])}, nil
}

func contentAAD(label string, sum []byte) []byte {
	aad := make([]byte, 0, len(contentDomain)+len(label)+1+len(sum))
	aad = append(aad, contentDomain...)
	aad = append(aad, label...)
	aad = append(aad, 0)
	return append(aad, sum...)
}

// seal returns nonce || ciphertext of plaintext, bound to label and sum.
func (s *sealer) seal(label string, plaintext, sum []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, contentAAD(label, sum)), nil
}

// open reverses seal and checks that the plaintext hashes to sum.
func (s *sealer) open(label string, ct, sum []byte) ([]byte, error) {
	if len(ct) < s.aead.NonceSize() {
		return nil, fmt.Errorf("ciphertext too short")
	}
	ns := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, ct[:ns], ct[ns:], contentAAD(label, sum))
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(pt); string(got[:]) != string(sum) {
		return nil, fmt.Errorf("decrypted %s does not match the recorded hash", label)
	}
	return pt, nil
}
