package cdsjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/soteai/gateway/assist"
)

const (
	issuer   = "https://ehr.example.org/fhir"
	audience = "https://gateway.example.org/cds-services/medication-risk"
)

var t0 = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

// keys is a test EHR: an ES384 and an RS384 key pair with kids.
type keys struct {
	ec    jwk.Key
	rs    jwk.Key
	jwks  []byte
	ecRaw *ecdsa.PrivateKey
}

func newKeys(t testing.TB) keys {
	t.Helper()
	ecPriv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k := keys{ecRaw: ecPriv}
	k.ec, _ = jwk.Import(ecPriv)
	_ = k.ec.Set(jwk.KeyIDKey, "ec-1")
	k.rs, _ = jwk.Import(rsPriv)
	_ = k.rs.Set(jwk.KeyIDKey, "rs-1")
	set := jwk.NewSet()
	for _, priv := range []jwk.Key{k.ec, k.rs} {
		pub, err := priv.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		_ = set.AddKey(pub)
	}
	k.jwks, err = json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type claims struct {
	iss, aud, jti string
	iat, exp      time.Time
	noJTI         bool
}

func (k keys) sign(t testing.TB, alg jwa.SignatureAlgorithm, key jwk.Key, c claims) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer(c.iss).Audience([]string{c.aud}).IssuedAt(c.iat).Expiration(c.exp).Subject("client-1")
	if !c.noJTI {
		b = b.JwtID(c.jti)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(s)
}

func good(jti string) claims {
	return claims{iss: issuer, aud: audience, jti: jti, iat: t0, exp: t0.Add(5 * time.Minute)}
}

func TestVerify(t *testing.T) {
	k := newKeys(t)
	other := newKeys(t)
	b64 := base64.RawURLEncoding.EncodeToString
	noneToken := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		b64([]byte(`{"iss":"`+issuer+`","aud":"`+audience+`","jti":"n1","exp":`+jsonTime(t0.Add(time.Minute))+`}`)) + "."
	// HS384 signed with the RSA public key's JSON as the secret: the
	// classic algorithm-confusion attack.
	rsPub, _ := k.rs.PublicKey()
	pubJSON, _ := json.Marshal(rsPub)
	hmacKey, _ := jwk.Import(pubJSON)
	hsToken := k.sign(t, jwa.HS384(), hmacKey, good("h1"))
	rs256 := k.sign(t, jwa.RS256(), k.rs, good("r256"))
	valid := k.sign(t, jwa.ES384(), k.ec, good("tamper"))
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := parts[0] + "." + b64([]byte(strings.Replace(string(payload), "client-1", "client-2", 1))) + "." + parts[2]
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	tamperedSig := parts[0] + "." + parts[1] + "." + b64(sig)

	tests := []struct {
		name  string
		token string
		at    time.Time
		kind  assist.Kind
		want  string // message substring; "" = valid
	}{
		{"valid ES384", k.sign(t, jwa.ES384(), k.ec, good("a1")), t0.Add(time.Minute), "", ""},
		{"valid RS384", k.sign(t, jwa.RS384(), k.rs, good("a2")), t0.Add(time.Minute), "", ""},
		{"valid within leeway after exp", k.sign(t, jwa.ES384(), k.ec, good("a3")), t0.Add(5*time.Minute + 20*time.Second), "", ""},
		{"expired", k.sign(t, jwa.ES384(), k.ec, good("e1")), t0.Add(6 * time.Minute), assist.KindUnauthorized, "expired"},
		{"wrong audience", k.sign(t, jwa.ES384(), k.ec, claims{iss: issuer, aud: "https://other.example.org/cds-services/medication-risk", jti: "w1", iat: t0, exp: t0.Add(time.Minute)}), t0, assist.KindUnauthorized, "audience"},
		{"audience of the other service", k.sign(t, jwa.ES384(), k.ec, claims{iss: issuer, aud: audience + "-select", jti: "w2", iat: t0, exp: t0.Add(time.Minute)}), t0, assist.KindUnauthorized, "audience"},
		{"unknown issuer", k.sign(t, jwa.ES384(), k.ec, claims{iss: "https://evil.example.org", aud: audience, jti: "u1", iat: t0, exp: t0.Add(time.Minute)}), t0, assist.KindUnauthorized, "issuer is not a registered"},
		{"signed by another EHR's key", other.sign(t, jwa.ES384(), other.ec, good("o1")), t0, assist.KindUnauthorized, "signature does not verify"},
		{"alg none", noneToken, t0, assist.KindUnauthorized, "ES384 or RS384"},
		{"alg HS384 with the public key as secret", hsToken, t0, assist.KindUnauthorized, "ES384 or RS384"},
		{"alg RS256", rs256, t0, assist.KindUnauthorized, "ES384 or RS384"},
		{"tampered payload", tamperedPayload, t0, assist.KindUnauthorized, "signature does not verify"},
		{"tampered signature", tamperedSig, t0, assist.KindUnauthorized, "signature does not verify"},
		{"no jti", k.sign(t, jwa.ES384(), k.ec, claims{iss: issuer, aud: audience, iat: t0, exp: t0.Add(time.Minute), noJTI: true}), t0, assist.KindUnauthorized, "exp or jti"},
		{"lifetime too long", k.sign(t, jwa.ES384(), k.ec, claims{iss: issuer, aud: audience, jti: "l1", iat: t0, exp: t0.Add(time.Hour)}), t0, assist.KindUnauthorized, "longer than"},
		{"issued in the future", k.sign(t, jwa.ES384(), k.ec, claims{iss: issuer, aud: audience, jti: "f1", iat: t0.Add(10 * time.Minute), exp: t0.Add(12 * time.Minute)}), t0, assist.KindUnauthorized, "not valid yet"},
		{"not a JWT", "sote_abc", t0, assist.KindUnauthorized, "compact JWS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New([]Client{{Issuer: issuer, Name: "ehr", Organisation: "county", JWKS: k.jwks}}, Options{Now: func() time.Time { return tc.at }})
			if err != nil {
				t.Fatal(err)
			}
			a, err := v.Verify(tc.token, audience)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if a.Role != assist.RoleService || a.TokenID != "cds:ehr" || a.Organisation != "county" {
					t.Errorf("actor %+v", a)
				}
				return
			}
			if assist.KindOf(err) != tc.kind || !strings.Contains(assist.MessageOf(err), tc.want) {
				t.Fatalf("err = %v (kind %s), want %s %q", err, assist.KindOf(err), tc.kind, tc.want)
			}
		})
	}
}

func jsonTime(t time.Time) string {
	b, _ := json.Marshal(t.Unix())
	return string(b)
}

func TestReplay(t *testing.T) {
	k := newKeys(t)
	now := t0
	v, err := New([]Client{{Issuer: issuer, Name: "ehr", JWKS: k.jwks}}, Options{Now: func() time.Time { return now }, MaxReplayEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	tok := k.sign(t, jwa.ES384(), k.ec, good("r1"))
	if _, err := v.Verify(tok, audience); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok, audience); assist.KindOf(err) != assist.KindUnauthorized || !strings.Contains(assist.MessageOf(err), "replay") {
		t.Fatalf("replay: %v", err)
	}
	// Another token with the same jti is a replay too.
	same := k.sign(t, jwa.RS384(), k.rs, good("r1"))
	if _, err := v.Verify(same, audience); !strings.Contains(assist.MessageOf(err), "replay") {
		t.Fatalf("same jti: %v", err)
	}
	// The memory is bounded: full of live ids, new calls fail closed.
	if _, err := v.Verify(k.sign(t, jwa.ES384(), k.ec, good("r2")), audience); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(k.sign(t, jwa.ES384(), k.ec, good("r3")), audience); assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("full replay memory: %v", err)
	}
	// After the tokens expire their ids are forgotten.
	now = t0.Add(6 * time.Minute)
	fresh := good("r4")
	fresh.iat, fresh.exp = now, now.Add(time.Minute)
	if _, err := v.Verify(k.sign(t, jwa.ES384(), k.ec, fresh), audience); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestNewRejectsBadClients(t *testing.T) {
	k := newKeys(t)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256k, _ := jwk.Import(p256.Public())
	weak := jwk.NewSet()
	_ = weak.AddKey(p256k)
	weakJSON, _ := json.Marshal(weak)
	priv := jwk.NewSet()
	_ = priv.AddKey(k.ec)
	privJSON, _ := json.Marshal(priv)
	for _, tc := range []struct {
		name    string
		clients []Client
		want    string
	}{
		{"no issuer", []Client{{Name: "x", JWKS: k.jwks}}, "issuer and name"},
		{"duplicate issuer", []Client{{Issuer: issuer, Name: "a", JWKS: k.jwks}, {Issuer: issuer, Name: "b", JWKS: k.jwks}}, "twice"},
		{"bad JSON", []Client{{Issuer: issuer, Name: "a", JWKS: []byte("{")}}, "does not parse"},
		{"only P-256", []Client{{Issuer: issuer, Name: "a", JWKS: weakJSON}}, "no P-384"},
		{"private key", []Client{{Issuer: issuer, Name: "a", JWKS: privJSON}}, "private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.clients, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkVerify measures one ES384 verification (fresh jti each time).
func BenchmarkVerify(b *testing.B) {
	k := newKeys(b)
	v, err := New([]Client{{Issuer: issuer, Name: "ehr", JWKS: k.jwks}}, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = k.sign(b, jwa.ES384(), k.ec, good("b"+time.Duration(i).String()))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.Verify(toks[i], audience); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRS384 measures one RS384 (RSA 2048) verification.
func BenchmarkVerifyRS384(b *testing.B) {
	k := newKeys(b)
	v, err := New([]Client{{Issuer: issuer, Name: "ehr", JWKS: k.jwks}}, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		b.Fatal(err)
	}
	toks := make([]string, b.N)
	for i := range toks {
		toks[i] = k.sign(b, jwa.RS384(), k.rs, good("r"+time.Duration(i).String()))
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.Verify(toks[i], audience); err != nil {
			b.Fatal(err)
		}
	}
}
