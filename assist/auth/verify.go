package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/soteai/gateway/assist"
)

// lookup is what the verifier needs from storage.
type lookup interface {
	lookupToken(ctx context.Context, hash []byte) (assist.Actor, error)
	lookupKey(ctx context.Context, blob string) (assist.Actor, error)
}

// Verifier checks credentials, caching successful look-ups for CacheTTL.
type Verifier struct {
	store   lookup
	ttl     time.Duration
	maxSkew time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	actor   assist.Actor
	expires time.Time
}

// NewVerifier builds a verifier. ttl bounds how late a revocation takes
// effect; maxSkew bounds an Ollama signature's timestamp.
func NewVerifier(store *Store, ttl, maxSkew time.Duration, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{store: store, ttl: ttl, maxSkew: maxSkew, now: now, cache: map[[32]byte]cached{}}
}

func (v *Verifier) cachedActor(key [32]byte) (assist.Actor, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.cache[key]
	if !ok || v.now().After(c.expires) {
		return assist.Actor{}, false
	}
	return c.actor, true
}

func (v *Verifier) remember(key [32]byte, a assist.Actor) {
	if v.ttl <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) > 10000 {
		clear(v.cache)
	}
	v.cache[key] = cached{actor: a, expires: v.now().Add(v.ttl)}
}

// Bearer verifies a bearer token. Errors: unauthorized, unavailable.
func (v *Verifier) Bearer(ctx context.Context, token string) (assist.Actor, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return assist.Actor{}, assist.E(assist.KindUnauthorized, "auth.Bearer", "the bearer token is not valid")
	}
	key := sha256.Sum256([]byte(token))
	if a, ok := v.cachedActor(key); ok {
		return a, nil
	}
	a, err := v.store.lookupToken(ctx, key[:])
	if err != nil {
		return assist.Actor{}, err
	}
	v.remember(key, a)
	return a, nil
}

// Challenge is the string an Ollama client signs: "METHOD,PATH?ts=UNIX".
func Challenge(method, path, ts string) string {
	return method + "," + path + "?ts=" + ts
}

// Ollama verifies the Authorization header the Ollama client sends when
// OLLAMA_AUTH=1: "<base64 public key>:<base64 ed25519 signature>" over
// Challenge(method, path, ts), with ts within maxSkew of now.
// Errors: unauthorized, unavailable.
func (v *Verifier) Ollama(ctx context.Context, method, path, ts, authorization string) (assist.Actor, error) {
	const op = "auth.Ollama"
	deny := func(msg string) (assist.Actor, error) {
		return assist.Actor{}, assist.E(assist.KindUnauthorized, op, msg)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return deny("the signed request has no valid ts parameter")
	}
	if d := v.now().Sub(time.Unix(sec, 0)); d > v.maxSkew || d < -v.maxSkew {
		return deny("the request signature has expired or its clock is off")
	}
	pubB64, sigB64, ok := strings.Cut(authorization, ":")
	if !ok {
		return deny("the Authorization header is not a bearer token or an Ollama key signature")
	}
	blob, err1 := base64.StdEncoding.DecodeString(pubB64)
	sig, err2 := base64.StdEncoding.DecodeString(sigB64)
	if err1 != nil || err2 != nil {
		return deny("the Ollama key signature is malformed")
	}
	pk, err := ssh.ParsePublicKey(blob)
	if err != nil || pk.Type() != ssh.KeyAlgoED25519 {
		return deny("the Ollama key signature is malformed")
	}
	if err := pk.Verify([]byte(Challenge(method, path, ts)), &ssh.Signature{Format: ssh.KeyAlgoED25519, Blob: sig}); err != nil {
		return deny("the Ollama key signature does not verify")
	}
	key := sha256.Sum256(blob)
	if a, ok := v.cachedActor(key); ok {
		return a, nil
	}
	a, err := v.store.lookupKey(ctx, pubB64)
	if err != nil {
		return assist.Actor{}, err
	}
	v.remember(key, a)
	return a, nil
}
