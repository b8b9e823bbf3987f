package audit

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/soteai/gateway/assist"
)

// EventKind names what a record is about. Kinds are lower-case words joined
// by dots or underscores; new kinds need no code change.
type EventKind string

const (
	KindAIOutput      EventKind = "ai.output"       // a whole (non-streamed) AI answer
	KindStreamStart   EventKind = "ai.stream.start" // a streamed answer begins (before the first byte)
	KindStreamEnd     EventKind = "ai.stream.end"   // a streamed answer ended; RelatesTo = start record
	KindReview        EventKind = "review"          // a clinician's outcome for an output; RelatesTo = output record
	KindModelApproval EventKind = "model.approval"  // a model release approved or withdrawn for a task
	KindTokenCreate   EventKind = "token.create"    // a credential was issued
	KindTokenRevoke   EventKind = "token.revoke"    // a credential was revoked
	KindConfigReload  EventKind = "config.reload"   // configuration was (re)loaded
	KindRiskAssess    EventKind = "risk.assess"     // a medication risk assessment
	KindContentPurge  EventKind = "content.purge"   // encrypted content past retention was erased
	// The digital clinic: a suggestion (urgency, red flags, draft) and the
	// nurse's decision on it (RelatesTo = the suggestion).
	KindClinicSuggestion EventKind = "clinic.suggestion"
	KindClinicDecision   EventKind = "clinic.decision"

	// Retrieval: searches whose passages ground AI output, and the admin
	// changes to the document collections they search.
	KindRetrievalSearch           EventKind = "retrieval.search"            // a search; Sources = chunk ids in rank order
	KindRetrievalIngest           EventKind = "retrieval.ingest"            // a document added, replaced or found unchanged
	KindRetrievalDelete           EventKind = "retrieval.delete"            // a document deleted
	KindRetrievalDeleteCollection EventKind = "retrieval.delete_collection" // a collection deleted with all its documents
	KindRetrievalReembed          EventKind = "retrieval.reembed"           // a collection moved to another embedding model

	// Speech: recognition and synthesis. Audio is recorded by its SHA-256
	// only, never stored.
	KindSpeechTranscribe EventKind = "speech.transcribe" // audio in (hash), transcript out
	KindSpeechSynthesize EventKind = "speech.synthesize" // text in, audio out (hash)

	// A draft checked against its sources by the deterministic grounding
	// checker (no model): counts of sentences and unsupported ones in Attrs.
	KindSummaryCheck EventKind = "summary.check"
)

// Outcome is how an event ended, or what a reviewer decided.
type Outcome string

const (
	OutcomeOK       Outcome = "ok"
	OutcomeError    Outcome = "error"
	OutcomeCanceled Outcome = "canceled"
	OutcomeRefused  Outcome = "refused" // blocked by policy before a model ran
	OutcomeAccepted Outcome = "accepted"
	OutcomeEdited   Outcome = "edited"
	OutcomeRejected Outcome = "rejected"
)

// Event is what a caller asks to record. Only Kind is required. The clear
// patient identifier and the content are never stored in clear: Patient is
// replaced by its keyed pseudonym and Input/Output by their SHA-256 (and,
// when a content key is configured, an encrypted copy).
type Event struct {
	Kind      EventKind
	RequestID string
	Actor     assist.Actor
	Task      assist.Task
	// Patient is the clear patient identifier (e.g. a personal identity
	// code). It is pseudonymised with HMAC-SHA256 and then forgotten.
	Patient         string
	Model           string // model name as requested
	ModelDigest     string // digest of the exact release that answered
	Host            string // host that answered
	TemplateID      string // prompt template id
	TemplateVersion string
	// Input and Output are the exact bytes received and released. Their
	// SHA-256 is recorded; they are stored, encrypted, only when the log has
	// a content key. InputHash/OutputHash may be given instead (e.g. for a
	// stream hashed incrementally); when both are given they must agree.
	Input, Output         []byte
	InputHash, OutputHash []byte
	Sources               []string // ids of retrieved sources, in the order used
	Latency               time.Duration
	InputTokens           int
	OutputTokens          int
	Outcome               Outcome
	ErrorKind             assist.Kind
	// RelatesTo is the seq of the record this event concerns (a review of
	// an output, the end of a stream); 0 for none. It must already exist.
	RelatesTo int64
	// Attrs holds small extra facts: knowledge-base versions, route, HTTP
	// status. Keys and values are short strings.
	Attrs map[string]string
}

// Record is one stored audit record. Its fields, in this order, are
// covered by the leaf hash (see Encode); LeafHash itself is not.
type Record struct {
	Seq             int64             `json:"seq"`
	Time            time.Time         `json:"time"`
	Kind            EventKind         `json:"kind"`
	RequestID       string            `json:"request_id,omitempty"`
	ActorTokenID    string            `json:"actor_token_id,omitempty"`
	ActorName       string            `json:"actor_name,omitempty"`
	ActorRole       assist.Role       `json:"actor_role,omitempty"`
	ActorOrg        string            `json:"actor_org,omitempty"`
	Task            assist.Task       `json:"task,omitempty"`
	Patient         Hash              `json:"patient,omitempty"` // HMAC-SHA256 pseudonym
	Model           string            `json:"model,omitempty"`
	ModelDigest     string            `json:"model_digest,omitempty"`
	Host            string            `json:"host,omitempty"`
	TemplateID      string            `json:"template_id,omitempty"`
	TemplateVersion string            `json:"template_version,omitempty"`
	InputHash       Hash              `json:"input_sha256,omitempty"`
	OutputHash      Hash              `json:"output_sha256,omitempty"`
	Sources         []string          `json:"sources,omitempty"`
	LatencyMicros   int64             `json:"latency_us,omitempty"`
	InputTokens     int64             `json:"input_tokens,omitempty"`
	OutputTokens    int64             `json:"output_tokens,omitempty"`
	Outcome         Outcome           `json:"outcome,omitempty"`
	ErrorKind       string            `json:"error_kind,omitempty"`
	RelatesTo       int64             `json:"relates_to,omitempty"`
	Attrs           map[string]string `json:"attrs,omitempty"`
	// ContentStored says an encrypted copy of the input/output was written
	// (it may have been erased since, after the retention period).
	ContentStored bool `json:"content_stored,omitempty"`
	PrevHash      Hash `json:"prev_hash"` // leaf hash of seq-1 (32 zero bytes for seq 1)
	LeafHash      Hash `json:"leaf_hash"` // SHA-256(0x00 || Encode())
}

// Latency returns the recorded latency.
func (r *Record) Latency() time.Duration { return time.Duration(r.LatencyMicros) * time.Microsecond }

// Receipt confirms that a record is durable.
type Receipt struct {
	Seq      int64
	Time     time.Time
	LeafHash Hash
}

// Hash is a SHA-256 value; it is written as lower-case hex in JSON.
type Hash []byte

// String returns the hex form.
func (h Hash) String() string { return hex.EncodeToString(h) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h)
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = nil
		return nil
	}
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return fmt.Errorf("audit: bad hex hash: %w", err)
	}
	*h = out
	return nil
}

// ParseHash decodes a hex SHA-256 value.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if err := h.UnmarshalText([]byte(s)); err != nil {
		return nil, err
	}
	if len(h) != 32 {
		return nil, fmt.Errorf("audit: hash must be 32 bytes, got %d", len(h))
	}
	return h, nil
}
