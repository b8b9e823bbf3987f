// Package ollama is the gateway's adapter to Ollama hosts and the only
// package importing github.com/ollama/ollama/api. It implements the
// models.Transport and models.Prober interfaces and typed helpers
// (chat, embeddings) that other domains use through the host pool.
//
// It must not import echo, pgx or the HTTP layer.
package ollama
