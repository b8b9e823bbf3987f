// Package cdsjwttest is a test EHR for CDS Hooks client authentication:
// fresh ES384 and RS384 key pairs, their public JWK Set, and signed
// tokens. It is imported by tests only (so that lestrrat-go/jwx stays
// inside assist/auth/cdsjwt).
package cdsjwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// EHR signs CDS Hooks calls like an EHR would.
type EHR struct {
	Issuer string
	// JWKS is the public key set to register with the gateway.
	JWKS []byte
	ec   jwk.Key
	rs   jwk.Key
	n    atomic.Int64
}

// New makes an EHR with issuer and fresh keys (kids "ec-1", "rs-1").
func New(t testing.TB, issuer string) *EHR {
	t.Helper()
	ecPriv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := &EHR{Issuer: issuer}
	e.ec, _ = jwk.Import(ecPriv)
	_ = e.ec.Set(jwk.KeyIDKey, "ec-1")
	e.rs, _ = jwk.Import(rsPriv)
	_ = e.rs.Set(jwk.KeyIDKey, "rs-1")
	set := jwk.NewSet()
	for _, k := range []jwk.Key{e.ec, e.rs} {
		pub, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		_ = set.AddKey(pub)
	}
	if e.JWKS, err = json.Marshal(set); err != nil {
		t.Fatal(err)
	}
	return e
}

// Token signs a token for audience with a fresh jti, issued now and
// valid for five minutes; alg is "ES384" or "RS384".
func (e *EHR) Token(t testing.TB, alg, audience string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(e.Issuer).Subject("ehr-client").Audience([]string{audience}).
		IssuedAt(now).Expiration(now.Add(5 * time.Minute)).JwtID(fmt.Sprintf("jti-%d-%d", now.UnixNano(), e.n.Add(1))).Build()
	if err != nil {
		t.Fatal(err)
	}
	var s []byte
	switch alg {
	case "ES384":
		s, err = jwt.Sign(tok, jwt.WithKey(jwa.ES384(), e.ec))
	case "RS384":
		s, err = jwt.Sign(tok, jwt.WithKey(jwa.RS384(), e.rs))
	default:
		t.Fatalf("cdsjwttest: algorithm %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}
