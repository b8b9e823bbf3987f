// Package openaistt is the Transcriber for upstream recognition hosts
// that speak the OpenAI-compatible POST /v1/audio/transcriptions
// (whisper.cpp's server, speaches, vLLM, or another gateway). The hosts sit
// in a models.Pool of their own, so they get the LLM hosts' health checks,
// priority queues (realtime first, GPU hosts preferred for realtime),
// circuit breakers and failover; when no host can serve, the call falls
// back to an in-process engine (PocketSphinx for English).
//
// A host's pool "models" are the languages it serves, as "stt:<tag>", plus
// "stt:auto" for detection, so a language no host serves is refused at
// once instead of being sent to a host that would return garbage.
//
// It imports speech, models and the vocabulary package; nothing of the
// HTTP layer.
package openaistt
