// Package ollamatest gives tests real Ollama servers.
//
// URL and Model return the stack's server and model (TEST_OLLAMA_URL and
// TEST_OLLAMA_MODEL, written by scripts/stack.sh). Start runs an extra
// `ollama serve` on a free loopback port from the stack's binary
// (TEST_OLLAMA_BIN) and models directory (TEST_OLLAMA_MODELS), so the extra
// server already has the tiny model; a test can Stop or Kill it mid-run and
// Restart it on the same address, which is what failover tests need.
//
// Without those variables the helpers skip the test with a clear message,
// except when CI=true, where they fail it: a missing Ollama must never give a
// green build.
//
// ollamatest uses only the standard library; it must not import the Ollama
// api client or any package of the gateway.
package ollamatest
