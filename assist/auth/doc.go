// Package auth owns the gateway's credentials: bearer tokens (stored as
// SHA-256 hashes, never in clear) and registered Ollama ed25519 public keys,
// each mapped to a role. It verifies both kinds of credential and caches
// verified ones briefly.
//
// It owns its tables and migrations. It must not import echo or the model
// packages; the HTTP layer passes it plain header values.
package auth
