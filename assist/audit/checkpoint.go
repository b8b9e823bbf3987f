package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strconv"
	"time"
)

// DefaultOrigin names the log in checkpoints when no origin is configured.
const DefaultOrigin = "soteai-audit"

// checkpointHeader is the first line of every signed checkpoint body.
const checkpointHeader = "soteai.audit.checkpoint.v1"

// Checkpoint is a signed statement of the log's Merkle tree: its size (the
// records seq 1..Size), its RFC 6962 root hash and when it was signed.
type Checkpoint struct {
	Origin    string    `json:"origin"`
	Size      int64     `json:"size"`
	Root      Hash      `json:"root"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"` // Ed25519 over Body(), base64 in JSON
}

// Body returns the signed bytes, five lines each ending in "\n":
//
//	soteai.audit.checkpoint.v1
//	<origin>
//	<size in decimal>
//	<root hash in standard base64>
//	<time in Unix microseconds, decimal>
func (c *Checkpoint) Body() []byte {
	b := make([]byte, 0, 128)
	b = append(b, checkpointHeader...)
	b = append(b, '\n')
	b = append(b, c.Origin...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, c.Size, 10)
	b = append(b, '\n')
	b = append(b, base64.StdEncoding.EncodeToString(c.Root)...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, c.Time.UnixMicro(), 10)
	return append(b, '\n')
}

// SignCheckpoint builds and signs a checkpoint. The time is truncated to
// microseconds, the precision the database keeps.
func SignCheckpoint(key ed25519.PrivateKey, origin string, size int64, root []byte, at time.Time) Checkpoint {
	if origin == "" {
		origin = DefaultOrigin
	}
	c := Checkpoint{
		Origin: origin,
		Size:   size,
		Root:   append(Hash(nil), root...),
		Time:   at.UTC().Truncate(time.Microsecond),
		KeyID:  KeyID(key.Public().(ed25519.PublicKey)),
	}
	c.Signature = ed25519.Sign(key, c.Body())
	return c
}

// ErrBadSignature is returned by VerifySignature for a checkpoint that the
// trusted key did not sign.
var ErrBadSignature = errors.New("audit: checkpoint signature does not verify with the trusted key")

// VerifySignature checks c's signature with the trusted public key.
func (c *Checkpoint) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || len(c.Signature) != ed25519.SignatureSize ||
		!ed25519.Verify(pub, c.Body(), c.Signature) {
		return ErrBadSignature
	}
	return nil
}
