package speech

import (
	"context"
	"time"
)

// EngineSampleRate is the rate every recognition engine receives: clients
// may send 8, 16, 44.1 or 48 kHz, and the pipeline resamples to this.
const EngineSampleRate = 16000

// Segment is one recognised stretch of speech, with times relative to the
// start of the audio given to the engine.
type Segment struct {
	Start, End time.Duration
	Text       string
	// Confidence is in [0, 1]; engines that give none report -1.
	Confidence float64
}

// Transcript is what an engine heard in one piece of audio.
type Transcript struct {
	Text     string
	Language string // BCP 47 primary language tag, e.g. "en", "fi"
	Segments []Segment
	// Engine names the engine and its version (e.g. "pocketsphinx 5prealpha
	// en-us", "openai-compatible whisper-large-v3 @ host"), for the audit log.
	Engine string
}

// Transcriber turns 16 kHz mono audio into text in the given language
// ("" lets the engine detect it, where it can).
//
// Errors: invalid for audio the engine cannot take; invalid for a language
// it does not serve (never silent garbage); unavailable when its host is down.
type Transcriber interface {
	Transcribe(ctx context.Context, a Audio, lang string) (Transcript, error)
}

// Speech is synthesized audio: a complete PCM WAV file.
type Speech struct {
	WAV      []byte
	Duration time.Duration
	// Engine names the synthesizer, its version and voice, for the audit log.
	Engine string
}

// Synthesizer speaks text in a language.
//
// Errors: invalid for a language it has no voice for, or empty text;
// unavailable when the engine cannot run.
type Synthesizer interface {
	Synthesize(ctx context.Context, text, lang string) (Speech, error)
}

// StreamingTranscriber recognises an utterance while it is spoken: the
// engine decodes each piece of audio as it arrives, so partial text costs
// nothing extra and the final transcript is ready almost as soon as the
// utterance ends. Engines that cannot stream implement Transcriber only.
type StreamingTranscriber interface {
	Transcriber
	// Start begins an utterance in lang. Errors: as Transcribe's, and
	// canceled when ctx ends while waiting for a free decoder.
	Start(ctx context.Context, lang string) (Stream, error)
}

// Stream is one utterance being recognised. It is not safe for concurrent
// use; Close must be called (it is a no-op after End).
type Stream interface {
	// Write decodes the next samples, at EngineSampleRate.
	Write(samples []float32) error
	// Partial is the best hypothesis so far.
	Partial() string
	// End finishes the utterance and returns its transcript, with segment
	// times from the first sample written.
	End() (Transcript, error)
	// Close abandons the utterance and frees the engine.
	Close()
}

// RateSynthesizer also speaks faster or slower: rate 1 is the engine's
// normal pace, 2 twice as fast, 0.5 half (OpenAI's "speed", 0.25–4).
type RateSynthesizer interface {
	Synthesizer
	SynthesizeAt(ctx context.Context, text, lang string, rate float64) (Speech, error)
}
