package interpret

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// Party is one side of the conversation: who speaks (a label such as
// "clinician" or "patient"), in which language, on which audio channel.
type Party struct {
	// Speaker labels the party in captions and in the transcript
	// ("clinician", "patient", "interpreter"); 1–32 letters, digits, '_' or '-'.
	Speaker string `json:"speaker"`
	// Language is a BCP 47 primary language tag: fi, sv, en, ar, so, ru, uk, ….
	Language string `json:"language"`
	// Channel is the byte that prefixes this party's audio frames (0–255);
	// parties are numbered 0, 1, … in order when every channel is 0.
	Channel int `json:"channel"`
	// ListenOnly is a party who sends no audio: they read (and hear) the
	// translations into their language, and no recogniser for it is needed.
	ListenOnly bool `json:"listen_only,omitempty"`
}

// AudioFormat is the audio a client sends: PCM 16-bit little-endian mono.
type AudioFormat struct {
	// Encoding must be "pcm16le" ("" means it).
	Encoding string `json:"encoding"`
	// SampleRate is 8000, 16000, 44100 or 48000.
	SampleRate int `json:"sample_rate"`
}

// Start opens a session. It is the client's first message.
type Start struct {
	Type    string      `json:"type"` // "start"
	Parties []Party     `json:"parties"`
	Audio   AudioFormat `json:"audio"`
	// Synthesis turns speaking each translation aloud on (WAV in a speech
	// event); nil means on.
	Synthesis *bool `json:"synthesis,omitempty"`
	// Partials turns live partial captions on; nil means on.
	Partials *bool `json:"partials,omitempty"`
	// Glossary names a retrieval collection of glossary terms (optional).
	Glossary string `json:"glossary,omitempty"`
	// Patient is the patient's identifier (optional); the audit log keeps
	// only its keyed pseudonym.
	Patient string `json:"patient,omitempty"`
}

// SampleRates are the audio rates a client may send.
var SampleRates = []int{8000, 16000, 44100, 48000}

// on reports a *bool option with its default true.
func on(b *bool) bool { return b == nil || *b }

// normalize checks a start message and fills its defaults. Errors: invalid
// with a message that names the problem.
func (s *Start) normalize() error {
	const op = "interpret.Start"
	if s.Type != "" && s.Type != "start" {
		return assist.E(assist.KindInvalid, op, "the first message must be a start message")
	}
	if s.Audio.Encoding == "" {
		s.Audio.Encoding = "pcm16le"
	}
	if s.Audio.Encoding != "pcm16le" {
		return assist.Errorf(assist.KindInvalid, "unsupported audio encoding %q (want pcm16le: PCM 16-bit little-endian mono)", s.Audio.Encoding)
	}
	rateOK := false
	for _, r := range SampleRates {
		rateOK = rateOK || r == s.Audio.SampleRate
	}
	if !rateOK {
		return assist.Errorf(assist.KindInvalid, "unsupported sample rate %d Hz (want 8000, 16000, 44100 or 48000)", s.Audio.SampleRate)
	}
	if len(s.Parties) < 2 || len(s.Parties) > 4 {
		return assist.E(assist.KindInvalid, op, "a session has 2 to 4 parties")
	}
	allZero := true
	for _, p := range s.Parties {
		allZero = allZero && p.Channel == 0
	}
	seenCh, seenSp := map[int]bool{}, map[string]bool{}
	for i := range s.Parties {
		p := &s.Parties[i]
		if allZero {
			p.Channel = i
		}
		p.Speaker = strings.TrimSpace(p.Speaker)
		if !validLabel(p.Speaker) {
			return assist.E(assist.KindInvalid, op, "each party needs a speaker label of 1–32 letters, digits, '_' or '-'")
		}
		lang, err := normalizeLang(p.Language)
		if err != nil {
			return err
		}
		p.Language = lang
		if p.Channel < 0 || p.Channel > 255 {
			return assist.E(assist.KindInvalid, op, "a party's channel must be 0–255")
		}
		if seenCh[p.Channel] || seenSp[p.Speaker] {
			return assist.E(assist.KindInvalid, op, "parties must have distinct channels and speaker labels")
		}
		seenCh[p.Channel], seenSp[p.Speaker] = true, true
	}
	speakers := 0
	for _, p := range s.Parties {
		if !p.ListenOnly {
			speakers++
		}
	}
	if speakers == 0 {
		return assist.E(assist.KindInvalid, op, "at least one party must speak (listen_only is for the others)")
	}
	if utf8.RuneCountInString(s.Patient) > 128 {
		return assist.E(assist.KindInvalid, op, "the patient identifier is too long")
	}
	return nil
}

func validLabel(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// normalizeLang reduces a BCP 47 tag to its lower-case primary language
// ("fi-FI" → "fi"). Errors: invalid.
func normalizeLang(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	t, _, _ = strings.Cut(strings.ReplaceAll(t, "_", "-"), "-")
	if len(t) < 2 || len(t) > 3 {
		return "", assist.Errorf(assist.KindInvalid, "unknown language %q (want a BCP 47 tag such as fi, sv or en)", tag)
	}
	for _, r := range t {
		if r < 'a' || r > 'z' {
			return "", assist.Errorf(assist.KindInvalid, "unknown language %q (want a BCP 47 tag such as fi, sv or en)", tag)
		}
	}
	return t, nil
}

// languageNames are the names the translation prompt uses.
var languageNames = map[string]string{
	"fi": "Finnish", "sv": "Swedish", "en": "English", "ar": "Arabic", "so": "Somali",
	"ru": "Russian", "uk": "Ukrainian", "et": "Estonian", "de": "German", "fr": "French",
	"es": "Spanish", "fa": "Persian", "ku": "Kurdish", "tr": "Turkish", "ti": "Tigrinya",
}

func languageName(tag string) string {
	if n := languageNames[tag]; n != "" {
		return n
	}
	return "the language " + tag
}

// Correction is an interpreter's edit of a final segment: its recognised
// text or its translation is replaced.
type Correction struct {
	Type    string `json:"type"` // "correct"
	Segment string `json:"segment"`
	// Field is "text" (what was said) or "translation".
	Field string `json:"field"`
	Text  string `json:"text"`
	// Retranslate, for a corrected text, translates the new text again
	// (and speaks it, when synthesis is on).
	Retranslate bool `json:"retranslate,omitempty"`
}

// Event types the server sends.
const (
	EventReady       = "ready"       // the session started
	EventPartial     = "partial"     // a live caption of speech under way (may be dropped)
	EventFinal       = "final"       // a final segment
	EventTranslation = "translation" // a segment's translation
	EventSpeech      = "speech"      // the translation spoken (WAV)
	EventCorrection  = "correction"  // a segment's text or translation was corrected
	EventError       = "error"       // something failed; the session goes on unless it closes
	EventTranscript  = "transcript"  // the bilingual transcript, the last event of a stopped session
)

// Event is one message to the client. Fields beyond Type depend on it.
type Event struct {
	Type    string `json:"type"`
	Session string `json:"session,omitempty"`
	// ready
	Parties   []Party  `json:"parties,omitempty"`
	Engines   *Engines `json:"engines,omitempty"`
	Synthesis *bool    `json:"synthesis,omitempty"`
	// partial, final, translation, speech, correction
	Segment  string   `json:"segment,omitempty"`
	Speaker  string   `json:"speaker,omitempty"`
	Channel  *int     `json:"channel,omitempty"`
	Language string   `json:"language,omitempty"`
	Start    *float64 `json:"start,omitempty"` // seconds from the start of the party's audio
	End      *float64 `json:"end,omitempty"`
	Text     string   `json:"text,omitempty"`
	// Confidence of a final segment, 0–1; -1 when the engine gives none.
	Confidence *float64 `json:"confidence,omitempty"`
	Engine     string   `json:"engine,omitempty"`
	// translation
	From     string `json:"from,omitempty"`
	Model    string `json:"model,omitempty"`
	Glossary []Term `json:"glossary,omitempty"`
	// speech: a complete WAV file (base64 in JSON) and its length.
	WAV        []byte `json:"wav,omitempty"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	// correction
	Field string `json:"field,omitempty"`
	// error
	Kind    assist.Kind `json:"kind,omitempty"`
	Message string      `json:"message,omitempty"`
	// transcript
	Transcript []Turn `json:"transcript,omitempty"`
	// AuditSeq is the audit record of a final, translation, speech or
	// correction event.
	AuditSeq int64 `json:"audit_seq,omitempty"`
	// Latency breaks down the time from the end of speech to this event.
	Latency *Latency `json:"latency,omitempty"`
	// Dropped counts partial captions a slow reader lost since the last
	// event it received.
	Dropped int `json:"dropped_partials,omitempty"`
}

// Engines names the engines and model a session uses.
type Engines struct {
	Transcribers map[string]string `json:"transcribers"` // language → engine
	Synthesizers map[string]string `json:"synthesizers,omitempty"`
	Translation  string            `json:"translation"` // model
}

// Latency is measured from the moment the voice-activity detector ended
// the utterance (the end of speech plus the pause that ends it).
type Latency struct {
	// Total is end of speech → this event, milliseconds.
	TotalMS float64 `json:"total_ms"`
	// Queue is the wait for the session's pipeline (busy with the
	// previous segment).
	QueueMS float64 `json:"queue_ms"`
	// Engine is the time spent in the recogniser, the model call and the
	// synthesizer for this segment up to this event (ASR + translate +
	// synthesis).
	EngineMS    float64 `json:"engine_ms"`
	ASRMS       float64 `json:"asr_ms"`
	TranslateMS float64 `json:"translate_ms"`
	SynthesisMS float64 `json:"synthesis_ms,omitempty"`
	// Overhead is the rest: the pipeline's own time (audit records,
	// glossary lookup, prompt, encoding, event queue).
	OverheadMS float64 `json:"overhead_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func seconds(d time.Duration) *float64 {
	v := float64(d.Milliseconds()) / 1000
	return &v
}

// Translation is a turn's translation in the transcript.
type Translation struct {
	Language string `json:"language"`
	Text     string `json:"text"`
}

// Turn is one final segment in the transcript: the summaries' turn format
// ({id, speaker, text, start, end}, times in seconds) plus the language
// and the translation(s).
type Turn struct {
	ID           string        `json:"id"`
	Speaker      string        `json:"speaker"`
	Text         string        `json:"text"`
	Start        *float64      `json:"start,omitempty"`
	End          *float64      `json:"end,omitempty"`
	Language     string        `json:"language"`
	Translations []Translation `json:"translations,omitempty"`
	Corrected    bool          `json:"corrected,omitempty"`
}
