// Package httpapi is the gateway's HTTP layer and the only package importing
// echo. routes.go registers every route with the roles it allows; errors.go
// renders the one error vocabulary in each API's own shape (Ollama, OpenAI
// or the gateway's native JSON). Handlers are short maker functions; the
// work is done by the domain packages they are given in Deps.
package httpapi
