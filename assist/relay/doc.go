// Package relay forwards a compatible-API call (Ollama or OpenAI shape) to
// a model host through the pool and releases the output to the client only
// after it is recorded: one audit record before a non-streaming answer, and
// for streams a record before the first byte and a closing record with the
// output hash. When the audit log cannot be written the call fails with
// unavailable and nothing is released.
//
// It composes models (the pool) and the audit log (through the small
// Auditor interface), and knows nothing of HTTP frameworks.
package relay
