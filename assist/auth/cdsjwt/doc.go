// Package cdsjwt verifies the JSON Web Tokens that CDS Hooks 2.0 clients
// (EHRs) send with every service call: the signature against the client's
// registered JSON Web Key Set (ES384 or RS384 only, as the specification
// requires services to support; never "none" or HMAC), the issuer (a
// registered client), the audience (the absolute URL of the CDS service
// endpoint called), the expiry (at most MaxLifetime ahead, as the
// specification asks for five minutes) and the token id (jti), which may
// not be used twice within the token's lifetime.
//
// It is the only importer of lestrrat-go/jwx. It does no network I/O:
// administrators register each client's issuer and public keys in the
// configuration. It must not import echo or any domain package.
package cdsjwt
