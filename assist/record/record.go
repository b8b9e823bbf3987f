package record

import (
	"context"
	"crypto/sha256"
	"hash"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

// Log durably appends an audit event: the part of *audit.Log a Recorder
// uses. Errors: unavailable when the log cannot be written.
type Log interface {
	Append(ctx context.Context, ev audit.Event) (audit.Receipt, error)
}

var _ Log = (*audit.Log)(nil)

// Observer receives the time each append took (metrics).
type Observer interface {
	AuditAppend(d time.Duration, err error)
}

// Deps are what a Recorder works with. Only Log is needed for Commit and
// streams; Generate and Stream need Models and Resolver too.
type Deps struct {
	// Log is the audit log; nil when auditing is disabled by configuration.
	Log      Log
	Models   Generator
	Resolver Resolver
	Observe  Observer
	Logger   *slog.Logger
	// EndTimeout bounds the closing record of a stream whose client has
	// gone away (default 10 s).
	EndTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Recorder records AI events before their output is released.
type Recorder struct {
	d Deps
}

// New returns a Recorder.
func New(d Deps) *Recorder {
	if d.EndTimeout <= 0 {
		d.EndTimeout = 10 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{d: d}
}

// Enabled reports whether records are written (auditing is configured).
func (r *Recorder) Enabled() bool { return r != nil && r.d.Log != nil }

// Entry is one audit record of a call: the audit event plus the API route
// and HTTP status it was answered with ("" and 0 for calls inside a task).
type Entry struct {
	audit.Event
	Route  string
	Status int
}

// SeqHeader carries the audit record number of an answer (for streams,
// the start record), so a client can link its review to it.
const SeqHeader = "X-Sote-Audit-Seq"

// FormatSeq renders a record number for SeqHeader ("" for none).
func FormatSeq(seq int64) string {
	if seq <= 0 {
		return ""
	}
	return strconv.FormatInt(seq, 10)
}

// Commit durably records e and returns its sequence number; the caller
// releases the output only after Commit returned nil. The actor and
// request id come from ctx when e names none. Errors: unavailable (the
// caller must release nothing), canceled when ctx ended first.
func (r *Recorder) Commit(ctx context.Context, e Entry) (int64, error) {
	if !r.Enabled() || e.Kind == "" {
		return 0, nil
	}
	ev := r.event(ctx, e)
	t := r.d.Now()
	rcpt, err := r.d.Log.Append(ctx, ev)
	if r.d.Observe != nil {
		r.d.Observe.AuditAppend(r.d.Now().Sub(t), err)
	}
	if err != nil {
		r.d.Logger.Error("audit append failed", "request_id", ev.RequestID, "kind", string(ev.Kind), "err", err)
		if ctx.Err() != nil {
			return 0, assist.ContextError("record.Commit", ctx)
		}
		return 0, assist.E(assist.KindUnavailable, "record.Commit", "the audit log is unavailable; nothing is served unrecorded", err, 5)
	}
	return rcpt.Seq, nil
}

// Refuse records a refused call, best effort, and returns cause: a refusal
// is answered even when its record cannot be written.
func (r *Recorder) Refuse(ctx context.Context, e Entry, cause error) error {
	e.Outcome, e.ErrorKind = audit.OutcomeError, assist.KindOf(cause)
	if e.ErrorKind == assist.KindCanceled {
		e.Outcome = audit.OutcomeCanceled
	}
	_, _ = r.Commit(ctx, e)
	return cause
}

// event completes e into the audit event: caller and request id from ctx,
// route and status as attributes, and, when the client named no patient,
// a personal identity code in the recorded input links the record to the
// patient (pseudonymised like a named one).
func (r *Recorder) event(ctx context.Context, e Entry) audit.Event {
	ev := e.Event
	if ev.Actor == (assist.Actor{}) {
		ev.Actor, _ = assist.ActorFrom(ctx)
	}
	if ev.RequestID == "" {
		ev.RequestID = assist.RequestIDFrom(ctx)
	}
	if e.Route != "" || e.Status != 0 {
		ev.Attrs = maps.Clone(ev.Attrs)
		if ev.Attrs == nil {
			ev.Attrs = make(map[string]string, 2)
		}
		ev.Attrs["route"], ev.Attrs["status"] = e.Route, strconv.Itoa(e.Status)
	}
	if ev.Patient == "" {
		if codes := audit.FindHETU(string(ev.Input)); len(codes) > 0 {
			ev.Patient = codes[0]
		}
	}
	return ev
}

// Stream is a streamed answer whose start is recorded: every byte written
// through it is hashed and passed on, and End records the end.
type Stream struct {
	r     *Recorder
	entry Entry
	seq   int64
	start time.Time
	w     io.Writer
	h     hash.Hash
	n     int64
}

// Begin records the start of a streamed answer (kind ai.stream.start
// unless e names another) before its first byte, and returns the Stream
// that releases bytes to w. Errors: as Commit; nothing may be released.
func (r *Recorder) Begin(ctx context.Context, e Entry, w io.Writer) (*Stream, error) {
	if e.Kind == "" {
		e.Kind = audit.KindStreamStart
	}
	if e.Outcome == "" {
		e.Outcome = "started"
	}
	s := &Stream{r: r, entry: e, start: r.d.Now(), w: w, h: sha256.New()}
	start := e
	start.OutputHash, start.Output = nil, nil
	seq, err := r.Commit(ctx, start)
	if err != nil {
		return nil, err
	}
	s.seq = seq
	return s, nil
}

// Seq is the start record's sequence number (0 with auditing disabled).
func (s *Stream) Seq() int64 { return s.seq }

// Write hashes p and releases it to the stream's writer. The hash covers
// exactly the bytes the writer accepted.
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	return n, err
}

// Usage is what a stream's end record says about the model's work.
type Usage struct {
	PromptTokens, OutputTokens int
}

// End records the end of the stream (kind ai.stream.end, linked to the
// start record) with the hash of every byte released, the outcome from
// cause (nil: ok; canceled: the client went away) and the usage. It runs
// even when ctx has ended (bounded by the recorder's EndTimeout). A non-nil
// error means the end could not be recorded: when cause is nil, the caller
// must tell the client in band not to use the output.
func (s *Stream) End(ctx context.Context, cause error, u Usage) error {
	end := s.entry
	end.Kind = audit.KindStreamEnd
	end.RelatesTo = s.seq
	if end.InputHash == nil && end.Input != nil {
		h := sha256.Sum256(end.Input)
		end.InputHash = h[:]
	}
	end.Input = nil
	end.Output = nil
	end.OutputHash = s.h.Sum(nil)
	end.Latency = s.r.d.Now().Sub(s.start) + s.entry.Latency
	end.Outcome, end.ErrorKind = audit.OutcomeOK, ""
	if cause != nil {
		end.ErrorKind = assist.KindOf(cause)
		end.Outcome = audit.OutcomeError
		if end.ErrorKind == assist.KindCanceled {
			end.Outcome = audit.OutcomeCanceled
		}
	}
	end.InputTokens, end.OutputTokens = u.PromptTokens, u.OutputTokens
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.r.d.EndTimeout)
	defer cancel()
	if _, err := s.r.Commit(actx, end); err != nil {
		return assist.E(assist.KindUnavailable, "record.End", "the audit log could not record the end of this answer; do not use it", err)
	}
	return nil
}
