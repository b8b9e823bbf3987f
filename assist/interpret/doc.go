// Package interpret runs real-time interpretation sessions: two (or more)
// parties who share no language talk through the gateway. Audio frames of
// each party are resampled, cut into utterances by voice-activity
// detection, transcribed (partial captions while a party speaks, a final
// segment when they pause), translated into the other party's language by
// one audited model call per segment at realtime priority with the
// glossary terms found in the segment, and spoken aloud by a synthesizer.
// An interpreter may correct a segment's text or translation (audited as a
// human edit); the session ends with a bilingual transcript in the turn
// format of the visit summaries.
//
// It is transport-free: the WebSocket adapter in cmd/assistd/internal/httpapi
// feeds a Session with Start, Audio, Correct and Stop, and writes the
// events it takes from Next. Flow control lives here: bounded queues, a
// slow reader loses partial captions (latest wins), never final segments,
// translations or speech.
//
// Every final segment, translation, synthesis, correction and the session's
// start and end are audit records (engine and model versions included)
// written before the event is released. Audio itself is never stored: only
// its SHA-256 is recorded.
//
// It imports the vocabulary, assist/record, assist/audit, assist/prompt,
// speech and retrieval (for glossary search types); never the HTTP layer,
// configuration or the database.
package interpret
