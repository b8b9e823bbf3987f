package cdsjwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/soteai/gateway/assist"
)

// Client is a registered CDS client: an EHR that signs its calls.
type Client struct {
	// Issuer is the "iss" the client sends (usually its FHIR base URL).
	Issuer string
	// Name labels the client in audit records and logs.
	Name string
	// Organisation is recorded with the actor.
	Organisation string
	// JWKS is the client's public JSON Web Key Set (JSON).
	JWKS []byte
}

// Options tune verification. Zero values take the defaults.
type Options struct {
	// MaxLifetime bounds exp − iat and exp − now (default 5 minutes, as
	// CDS Hooks 2.0 recommends).
	MaxLifetime time.Duration
	// Leeway allows for clock differences (default 30 s).
	Leeway time.Duration
	// MaxReplayEntries bounds the jti memory (default 1,000,000); when it
	// is full of unexpired ids, new tokens are refused (fail closed).
	MaxReplayEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier checks CDS client JWTs. It is safe for concurrent use.
type Verifier struct {
	clients map[string]*client
	opt     Options

	mu    sync.Mutex
	seen  map[string]time.Time // issuer + "\x00" + jti -> expiry
	sweep time.Time
}

type client struct {
	Client
	keys jwk.Set
}

// Allowed signature algorithms (CDS Hooks 2.0: ES384 and RS384).
var allowed = []string{"ES384", "RS384"}

// New checks the registered clients and builds a verifier. Each JWKS
// must parse and hold at least one ES384-capable (P-384) or RS384-capable
// (RSA of 2048 bits or more) public key; issuers must be unique.
func New(clients []Client, opt Options) (*Verifier, error) {
	if opt.MaxLifetime <= 0 {
		opt.MaxLifetime = 5 * time.Minute
	}
	if opt.Leeway < 0 {
		return nil, errors.New("cdsjwt: negative leeway")
	}
	if opt.Leeway == 0 {
		opt.Leeway = 30 * time.Second
	}
	if opt.MaxReplayEntries <= 0 {
		opt.MaxReplayEntries = 1_000_000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	v := &Verifier{clients: map[string]*client{}, opt: opt, seen: map[string]time.Time{}}
	for i, c := range clients {
		if c.Issuer == "" || c.Name == "" {
			return nil, fmt.Errorf("cdsjwt: client %d: issuer and name are required", i)
		}
		if _, dup := v.clients[c.Issuer]; dup {
			return nil, fmt.Errorf("cdsjwt: client %s: issuer %q registered twice", c.Name, c.Issuer)
		}
		set, err := jwk.Parse(c.JWKS)
		if err != nil {
			return nil, fmt.Errorf("cdsjwt: client %s: the JWKS does not parse: %w", c.Name, err)
		}
		usable := 0
		for k := range set.Len() {
			key, _ := set.Key(k)
			if _, err := usableKey(key); err == nil {
				usable++
			}
			if isPrivate(key) {
				return nil, fmt.Errorf("cdsjwt: client %s: the JWKS holds a private key; register only public keys", c.Name)
			}
		}
		if usable == 0 {
			return nil, fmt.Errorf("cdsjwt: client %s: no P-384 EC or RSA (2048+ bits) public key in the JWKS", c.Name)
		}
		v.clients[c.Issuer] = &client{Client: c, keys: set}
	}
	return v, nil
}

// Clients reports how many clients are registered.
func (v *Verifier) Clients() int { return len(v.clients) }

func isPrivate(k jwk.Key) bool {
	switch k.(type) {
	case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey, jwk.SymmetricKey:
		return true
	}
	return false
}

// usableKey returns the algorithm a public key verifies, or an error.
func usableKey(k jwk.Key) (string, error) {
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return "", err
	}
	switch p := raw.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P384() {
			return "", errors.New("EC key not on P-384")
		}
		return "ES384", nil
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return "", errors.New("RSA key shorter than 2048 bits")
		}
		return "RS384", nil
	}
	return "", errors.New("unsupported key type")
}

func unauthorized(msg string, err error) error {
	return assist.E(assist.KindUnauthorized, "cdsjwt.Verify", "CDS client authentication failed: "+msg, err)
}

// Verify checks token for a call whose endpoint URL is audience and
// returns the client as an actor (role service). Errors are of kind
// unauthorized with a client-safe message naming the failed check, or
// unavailable when the replay memory is full.
func (v *Verifier) Verify(token string, audience string) (assist.Actor, error) {
	raw := []byte(token)
	msg, err := jws.Parse(raw, jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return assist.Actor{}, unauthorized("the token is not a compact JWS", err)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg, ok := hdr.Algorithm()
	if !ok || !slices.Contains(allowed, alg.String()) {
		return assist.Actor{}, unauthorized("the signature algorithm must be ES384 or RS384", nil)
	}
	// The issuer names the key set; nothing else is trusted before the
	// signature verifies.
	unverified, err := jwt.ParseInsecure(raw)
	if err != nil {
		return assist.Actor{}, unauthorized("the token's claims do not parse", err)
	}
	iss, _ := unverified.Issuer()
	c, ok := v.clients[iss]
	if !ok {
		return assist.Actor{}, unauthorized("the issuer is not a registered CDS client", nil)
	}
	key, err := v.keyFor(c, hdr, alg.String())
	if err != nil {
		return assist.Actor{}, err
	}
	now := v.opt.Now()
	tok, err := jwt.Parse(raw,
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
		jwt.WithAcceptableSkew(v.opt.Leeway),
		jwt.WithIssuer(c.Issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.JwtIDKey),
	)
	if err != nil {
		switch {
		case errors.Is(err, jwt.TokenExpiredError()):
			return assist.Actor{}, unauthorized("the token has expired", err)
		case errors.Is(err, jwt.InvalidIssuedAtError()), errors.Is(err, jwt.TokenNotYetValidError()):
			return assist.Actor{}, unauthorized("the token is not valid yet (iat or nbf in the future)", err)
		case errors.Is(err, jwt.MissingRequiredClaimError()):
			return assist.Actor{}, unauthorized("the token lacks exp or jti", err)
		case errors.Is(err, jwt.ValidateError()):
			return assist.Actor{}, unauthorized("the token's claims are not valid", err)
		}
		return assist.Actor{}, unauthorized("the signature does not verify", err)
	}
	if auds, _ := tok.Audience(); !slices.Contains(auds, audience) {
		return assist.Actor{}, unauthorized("the audience (aud) is not this CDS service's URL", nil)
	}
	exp, _ := tok.Expiration()
	if exp.Sub(now) > v.opt.MaxLifetime+v.opt.Leeway {
		return assist.Actor{}, unauthorized(fmt.Sprintf("the token lives longer than %s", v.opt.MaxLifetime), nil)
	}
	if iat, ok := tok.IssuedAt(); ok && exp.Sub(iat) > v.opt.MaxLifetime {
		return assist.Actor{}, unauthorized(fmt.Sprintf("the token lives longer than %s", v.opt.MaxLifetime), nil)
	}
	jti, _ := tok.JwtID()
	if jti == "" || len(jti) > 256 {
		return assist.Actor{}, unauthorized("the token lacks a usable jti", nil)
	}
	if err := v.remember(c.Issuer+"\x00"+jti, exp.Add(v.opt.Leeway), now); err != nil {
		return assist.Actor{}, err
	}
	return assist.Actor{TokenID: "cds:" + c.Name, Name: c.Name, Role: assist.RoleService, Organisation: c.Organisation}, nil
}

// keyFor picks the client's key named by kid (or its only usable key when
// the token has no kid) and checks it fits the algorithm.
func (v *Verifier) keyFor(c *client, hdr jws.Headers, alg string) (jwk.Key, error) {
	var key jwk.Key
	if kid, ok := hdr.KeyID(); ok && kid != "" {
		k, found := c.keys.LookupKeyID(kid)
		if !found {
			return nil, unauthorized("no registered key has the token's kid", nil)
		}
		key = k
	} else {
		for i := range c.keys.Len() {
			k, _ := c.keys.Key(i)
			if a, err := usableKey(k); err == nil && a == alg {
				if key != nil {
					return nil, unauthorized("the token has no kid and the client has several keys", nil)
				}
				key = k
			}
		}
		if key == nil {
			return nil, unauthorized("no registered key fits the signature algorithm", nil)
		}
	}
	if a, err := usableKey(key); err != nil || a != alg {
		return nil, unauthorized("the key named by kid does not fit the signature algorithm", err)
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg {
		return nil, unauthorized("the key named by kid is registered for another algorithm", nil)
	}
	return key, nil
}

// remember records a jti until it expires; a second use is refused.
func (v *Verifier) remember(id string, until, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if exp, ok := v.seen[id]; ok && now.Before(exp) {
		return unauthorized("the token's jti was already used (replay)", nil)
	}
	if len(v.seen) >= v.opt.MaxReplayEntries || now.Sub(v.sweep) > time.Minute {
		for k, exp := range v.seen {
			if !now.Before(exp) {
				delete(v.seen, k)
			}
		}
		v.sweep = now
		if len(v.seen) >= v.opt.MaxReplayEntries {
			return assist.E(assist.KindUnavailable, "cdsjwt.Verify", "too many CDS calls in the token lifetime; try again shortly")
		}
	}
	v.seen[id] = until
	return nil
}

// keep the jwa import used for the algorithm type in signatures.
var _ = jwa.ES384
