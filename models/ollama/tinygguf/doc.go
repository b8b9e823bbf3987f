// Package tinygguf writes a tiny llama-architecture GGUF model with seeded
// random weights, small enough (about half a megabyte) to build on every test
// run and fast enough on one CPU core that a real Ollama server can load it,
// stream text from it and embed with it in integration tests.
//
// The model knows nothing: its vocabulary is the three SentencePiece control
// tokens, the 256 byte-fallback tokens and the word separator "▁", and its
// output layer is shaped so that it only ever emits lowercase ASCII letters
// and spaces and never the end-of-sequence token. Every reply is therefore
// exactly num_predict tokens long; the Modelfile sets a small default.
//
// The same seed always gives the same bytes, so the model's digest is stable.
//
// Ollama runs llama models with its llama.cpp runner by default, which both
// generates and embeds with this model; with OLLAMA_NEW_ENGINE=1 the model
// still generates but Ollama refuses to embed with it.
//
// tinygguf imports only Ollama's GGUF writer (fs/ggml); it must not import the
// Ollama api client or any package of the gateway.
package tinygguf
