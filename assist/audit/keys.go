package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
)

// KeyID names a checkpoint public key: the first 8 bytes of its SHA-256, in
// hex. It is stored with each checkpoint so a verifier can tell which key
// was meant.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// CheckpointKeyFromBytes builds the checkpoint signing key from raw key
// material: a 32-byte seed or a 64-byte Ed25519 private key.
func CheckpointKeyFromBytes(b []byte) (ed25519.PrivateKey, error) {
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if string(k) != string(b) {
			return nil, fmt.Errorf("audit: inconsistent Ed25519 private key")
		}
		return k, nil
	}
	return nil, fmt.Errorf("audit: an Ed25519 key must be a 32-byte seed or a 64-byte private key, got %d bytes", len(b))
}

// ParsePrivateKey reads a checkpoint signing key: PEM "PRIVATE KEY"
// (PKCS #8, as written by MarshalPrivateKey or `openssl genpkey -algorithm
// ed25519`), or a base64/hex 32-byte seed or 64-byte key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	if blk, _ := pem.Decode(data); blk != nil {
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint key: %w", err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("audit: checkpoint key is not an Ed25519 key")
		}
		return ek, nil
	}
	b, err := decodeKeyText(string(data))
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint key: %w", err)
	}
	return CheckpointKeyFromBytes(b)
}

// ParsePublicKey reads a checkpoint verification key: PEM "PUBLIC KEY"
// (PKIX, as written by MarshalPublicKey), or base64/hex of the 32 bytes.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if blk, _ := pem.Decode(data); blk != nil {
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("audit: public key: %w", err)
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("audit: public key is not an Ed25519 key")
		}
		return ek, nil
	}
	b, err := decodeKeyText(string(data))
	if err != nil {
		return nil, fmt.Errorf("audit: public key: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("audit: public key must be 32 bytes, got %d", len(b))
	}
	return ed25519.PublicKey(b), nil
}

// MarshalPublicKey writes pub as PEM "PUBLIC KEY" (PKIX), the form the
// export and `assist audit keygen` use.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // cannot fail for a valid Ed25519 key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// MarshalPrivateKey writes priv as PEM "PRIVATE KEY" (PKCS #8).
func MarshalPrivateKey(priv ed25519.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		panic(err) // cannot fail for a valid Ed25519 key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ParseSymmetricKey decodes a 32-byte key given as hex or base64 (the
// HMAC and content keys).
func ParseSymmetricKey(data []byte) ([]byte, error) {
	b, err := decodeKeyText(string(data))
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("audit: key must be 32 bytes, got %d", len(b))
	}
	return b, nil
}

func decodeKeyText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && s != "" {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && s != "" {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not hex or base64")
}
