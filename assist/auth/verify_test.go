package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/soteai/gateway/assist"
)

// keyLookup is an in-memory credential store: registered Ollama keys by
// their base64 wire form.
type keyLookup map[string]assist.Actor

func (k keyLookup) lookupToken(context.Context, []byte) (assist.Actor, error) {
	return assist.Actor{}, assist.E(assist.KindUnauthorized, "no tokens here")
}

func (k keyLookup) lookupKey(_ context.Context, blob string) (assist.Actor, error) {
	if a, ok := k[blob]; ok {
		return a, nil
	}
	return assist.Actor{}, assist.E(assist.KindUnauthorized, "auth.lookupKey", "the credential is not registered or has been revoked")
}

// signer signs challenges the way the stock Ollama client does.
type signer struct {
	pub  string
	priv ssh.Signer
}

func newSigner(t *testing.T) signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer{pub: base64.StdEncoding.EncodeToString(s.PublicKey().Marshal()), priv: s}
}

func (s signer) header(t *testing.T, method, path, ts string) string {
	t.Helper()
	sig, err := s.priv.Sign(rand.Reader, []byte(Challenge(method, path, ts)))
	if err != nil {
		t.Fatal(err)
	}
	return s.pub + ":" + base64.StdEncoding.EncodeToString(sig.Blob)
}

func TestOllamaSignatures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	registered, unknown := newSigner(t), newSigner(t)
	actor := assist.Actor{TokenID: "key_1", Role: assist.RoleClinician}
	v := &Verifier{store: keyLookup{registered.pub: actor}, maxSkew: 30 * time.Second, now: func() time.Time { return now },
		cache: map[[32]byte]cached{}}
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }

	// A non-Ed25519 SSH key signing the same challenge.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner, _ := ssh.NewSignerFromKey(ec)
	ecSig, _ := ecSigner.Sign(rand.Reader, []byte(Challenge("POST", "/api/chat", ts(0))))
	ecHeader := base64.StdEncoding.EncodeToString(ecSigner.PublicKey().Marshal()) + ":" + base64.StdEncoding.EncodeToString(ecSig.Blob)

	// A captured header from a real request, 10 s ago.
	capturedTS := ts(-10 * time.Second)
	captured := registered.header(t, "POST", "/api/chat", capturedTS)

	for _, tc := range []struct {
		name                  string
		method, path, ts, hdr string
		ok                    bool
	}{
		{"fresh signature", "POST", "/api/chat", ts(0), registered.header(t, "POST", "/api/chat", ts(0)), true},
		{"stale", "POST", "/api/chat", ts(-31 * time.Second), registered.header(t, "POST", "/api/chat", ts(-31*time.Second)), false},
		{"from the future", "POST", "/api/chat", ts(31 * time.Second), registered.header(t, "POST", "/api/chat", ts(31*time.Second)), false},
		{"wrong path", "POST", "/api/generate", ts(0), registered.header(t, "POST", "/api/chat", ts(0)), false},
		{"wrong method", "DELETE", "/api/chat", ts(0), registered.header(t, "POST", "/api/chat", ts(0)), false},
		{"timestamp changed after signing", "POST", "/api/chat", ts(1 * time.Second), registered.header(t, "POST", "/api/chat", ts(0)), false},
		{"wrong key type", "POST", "/api/chat", ts(0), ecHeader, false},
		{"unknown key", "POST", "/api/chat", ts(0), unknown.header(t, "POST", "/api/chat", ts(0)), false},
		{"malformed: no colon", "POST", "/api/chat", ts(0), "Basic dXNlcjpwYXNz", false},
		{"malformed: bad base64", "POST", "/api/chat", ts(0), "!!!:???", false},
		{"malformed: not a key", "POST", "/api/chat", ts(0), base64.StdEncoding.EncodeToString([]byte("x")) + ":AAAA", false},
		{"malformed: no ts", "POST", "/api/chat", "", registered.header(t, "POST", "/api/chat", ts(0)), false},
		{"malformed: ts not a number", "POST", "/api/chat", "soon", registered.header(t, "POST", "/api/chat", "soon"), false},
		// The stock client signs METHOD,PATH?ts= only, never the body: a
		// captured header replayed inside the window is accepted (the
		// residual risk the README states; TLS keeps headers from being
		// captured), and refused once the window has passed.
		{"replay inside the window", "POST", "/api/chat", capturedTS, captured, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := v.Ollama(context.Background(), tc.method, tc.path, tc.ts, tc.hdr)
			if tc.ok && (err != nil || a != actor) {
				t.Fatalf("got %v %v, want the registered key's actor", a, err)
			}
			if !tc.ok && assist.KindOf(err) != assist.KindUnauthorized {
				t.Fatalf("got %v %v, want unauthorized", a, err)
			}
		})
	}
	t.Run("replay outside the window", func(t *testing.T) {
		later := &Verifier{store: v.store, maxSkew: v.maxSkew, now: func() time.Time { return now.Add(25 * time.Second) }, cache: map[[32]byte]cached{}}
		if _, err := later.Ollama(context.Background(), "POST", "/api/chat", capturedTS, captured); assist.KindOf(err) != assist.KindUnauthorized {
			t.Fatalf("replay 35 s after signing: %v, want unauthorized", err)
		}
	})
}
