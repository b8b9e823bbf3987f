package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/models"
)

// Record is one audit event written by the relay.
type Record struct {
	Kind         string // "ai.output", "ai.stream.start" or "ai.stream.end"
	RelatesTo    int64  // for ai.stream.end: the seq of its start record
	RequestID    string
	Actor        assist.Actor
	Task         assist.Task
	PatientRef   string // clear identifier from the client; pseudonymised by the auditor
	Model        string
	ModelDigest  string
	Host         string
	Route        string
	InputSHA256  []byte
	OutputSHA256 []byte
	Input        []byte // exact request body (stored only if content storage is on)
	Output       []byte // exact released bytes (nil for streams)
	Latency      time.Duration
	PromptTokens int
	OutputTokens int
	Outcome      string // "ok", "error", "canceled"
	ErrorKind    assist.Kind
	Status       int
}

// Auditor durably appends a record and returns its sequence number.
// Errors: unavailable when the store cannot be written.
type Auditor interface {
	Record(ctx context.Context, r Record) (int64, error)
}

// Observer receives measurements; implemented by the metrics package.
type Observer interface {
	FirstByte(host string, d time.Duration)
	Tokens(model string, prompt, output int, genSeconds float64)
	Failover(route string)
	AuditAppend(d time.Duration, err error)
}

// Forwarder is the part of the host pool the relay uses.
type Forwarder interface {
	Forward(ctx context.Context, tr models.Transport, call models.Call) (*models.Response, error)
}

// Sink is where the relay writes the client's response.
type Sink interface {
	Header() http.Header
	WriteHeader(status int)
	Write(p []byte) (int, error)
	Flush()
}

// Relay forwards calls. Auditor may be nil only when auditing is disabled
// by configuration.
type Relay struct {
	Pool      Forwarder
	Transport models.Transport
	Audit     Auditor
	Observe   Observer
	Log       *slog.Logger
	// AuditTimeout bounds the closing record of a stream whose client
	// has gone away.
	AuditTimeout time.Duration
}

// Call is one client request.
type Call struct {
	models.Call
	Route      string
	Stream     bool
	RequestID  string
	Actor      assist.Actor
	Task       assist.Task
	PatientRef string
	// NoAudit marks calls that produce no AI output (e.g. /api/show).
	NoAudit bool
	// StreamError renders an in-band error for a stream that has started,
	// in the API's own shape (an NDJSON line or an SSE event).
	StreamError func(kind assist.Kind, msg string) []byte
}

// Result summarises a relayed call for logs.
type Result struct {
	Status   int
	Host     string
	Seq      int64
	Attempts int
}

// Do forwards c and writes the answer to w. A returned error means nothing
// was written: the caller renders it in the API's error shape. Errors
// after the stream started are reported in-band and also returned with
// Result.Status set.
func (r *Relay) Do(ctx context.Context, c Call, w Sink) (Result, error) {
	start := time.Now()
	inHash := sha256.Sum256(c.Body)
	resp, err := r.Pool.Forward(ctx, r.Transport, c.Call)
	if err != nil {
		return Result{}, err
	}
	if r.Observe != nil {
		r.Observe.FirstByte(resp.Lease.Host.Name, time.Since(start))
		if resp.Attempts > 1 {
			r.Observe.Failover(c.Route)
		}
	}
	rec := Record{
		RequestID: c.RequestID, Actor: c.Actor, Task: c.Task, PatientRef: c.PatientRef,
		Model: resp.Lease.Model.Name, ModelDigest: resp.Lease.Model.Digest, Host: resp.Lease.Host.Name,
		Route: c.Route, InputSHA256: inHash[:], Input: c.Body, Status: resp.Status,
	}
	res := Result{Status: resp.Status, Host: resp.Lease.Host.Name, Attempts: resp.Attempts}
	if c.NoAudit {
		return r.whole(ctx, resp, rec, res, start, w, false)
	}
	if c.Stream && resp.Status == http.StatusOK {
		return r.stream(ctx, c, resp, rec, res, start, w)
	}
	return r.whole(ctx, resp, rec, res, start, w, true)
}

// whole buffers a non-streaming answer, records it, then releases it.
func (r *Relay) whole(ctx context.Context, resp *models.Response, rec Record, res Result, start time.Time, w Sink, audited bool) (Result, error) {
	var buf bytes.Buffer
	buf.Write(resp.First)
	_, err := io.Copy(&buf, resp.Body)
	if err != nil {
		resp.Finish(err)
		if ctx.Err() != nil {
			return res, assist.E(assist.KindCanceled, "relay.whole", ctx.Err())
		}
		return res, assist.E(assist.KindUpstream, "relay.whole", "the model host failed before its answer was complete", err)
	}
	resp.Finish(nil)
	out := buf.Bytes()
	outHash := sha256.Sum256(out)
	if audited {
		rec.Kind = "ai.output"
	}
	rec.OutputSHA256 = outHash[:]
	rec.Output = out
	rec.Latency = time.Since(start)
	rec.Outcome = "ok"
	if resp.Status >= 300 {
		rec.Outcome, rec.ErrorKind = "error", statusKind(resp.Status)
	}
	var last lastLine
	last.add(out)
	u := usageOf(last.bytes())
	rec.PromptTokens, rec.OutputTokens = u.prompt, u.output
	r.tokens(rec.Model, u)
	seq, err := r.record(ctx, rec)
	if err != nil {
		return res, err
	}
	res.Seq = seq
	copyHeaders(w.Header(), resp.Header)
	setSeq(w, seq)
	w.WriteHeader(resp.Status)
	_, _ = w.Write(out)
	return res, nil
}

// stream records the start, relays chunks as they come, and records the end.
func (r *Relay) stream(ctx context.Context, c Call, resp *models.Response, rec Record, res Result, start time.Time, w Sink) (Result, error) {
	rec.Kind = "ai.stream.start"
	rec.Outcome = "started"
	startRec := rec
	startRec.Latency = time.Since(start)
	seq, err := r.record(ctx, startRec)
	if err != nil {
		resp.Finish(nil)
		return res, err
	}
	res.Seq = seq

	copyHeaders(w.Header(), resp.Header)
	setSeq(w, seq)
	w.WriteHeader(resp.Status)
	h := sha256.New()
	var last lastLine
	var streamErr error
	chunk := resp.First
	buf := make([]byte, 32*1024)
	for {
		if len(chunk) > 0 {
			h.Write(chunk)
			last.add(chunk)
			if _, werr := w.Write(chunk); werr != nil {
				streamErr = assist.E(assist.KindCanceled, "relay.stream", "the client went away", werr)
				break
			}
			w.Flush()
		}
		n, rerr := resp.Body.Read(buf)
		chunk = buf[:n]
		if rerr == io.EOF {
			if n > 0 {
				continue // deliver the final bytes, then read EOF again
			}
			break
		}
		if rerr != nil {
			if n > 0 {
				h.Write(chunk)
				_, _ = w.Write(chunk)
			}
			if ctx.Err() != nil {
				streamErr = assist.E(assist.KindCanceled, "relay.stream", "the client went away", rerr)
			} else {
				streamErr = assist.E(assist.KindUpstream, "relay.stream", "the model host failed mid-stream; the output is incomplete", rerr)
			}
			break
		}
	}
	resp.Finish(streamErr)

	end := rec
	end.Kind = "ai.stream.end"
	end.RelatesTo = seq
	end.Input = nil
	end.OutputSHA256 = h.Sum(nil)
	end.Latency = time.Since(start)
	end.Outcome = "ok"
	if streamErr != nil {
		end.ErrorKind = assist.KindOf(streamErr)
		end.Outcome = "error"
		if end.ErrorKind == assist.KindCanceled {
			end.Outcome = "canceled"
		}
	}
	u := usageOf(last.bytes())
	end.PromptTokens, end.OutputTokens = u.prompt, u.output
	r.tokens(end.Model, u)
	actx := context.WithoutCancel(ctx)
	if r.AuditTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(actx, r.AuditTimeout)
		defer cancel()
	}
	if _, aerr := r.record(actx, end); aerr != nil && streamErr == nil {
		streamErr = assist.E(assist.KindUnavailable, "relay.stream", "the audit log could not record the end of this answer; do not use it", aerr)
	}
	if streamErr != nil && assist.KindOf(streamErr) != assist.KindCanceled && c.StreamError != nil {
		_, _ = w.Write(c.StreamError(assist.KindOf(streamErr), assist.MessageOf(streamErr)))
		w.Flush()
	}
	return res, streamErr
}

func (r *Relay) record(ctx context.Context, rec Record) (int64, error) {
	if r.Audit == nil || rec.Kind == "" {
		return 0, nil
	}
	t := time.Now()
	seq, err := r.Audit.Record(ctx, rec)
	if r.Observe != nil {
		r.Observe.AuditAppend(time.Since(t), err)
	}
	if err != nil {
		if r.Log != nil {
			r.Log.Error("audit append failed", "request_id", rec.RequestID, "kind", rec.Kind, "err", err)
		}
		if errors.Is(err, context.Canceled) {
			return 0, assist.E(assist.KindCanceled, "relay.record", err)
		}
		return 0, assist.E(assist.KindUnavailable, "relay.record", "the audit log is unavailable; nothing is served unrecorded", err, 5)
	}
	return seq, nil
}

func (r *Relay) tokens(model string, u usage) {
	if r.Observe != nil {
		r.Observe.Tokens(model, u.prompt, u.output, u.genSeconds)
	}
}

// SeqHeader carries the audit record number of an answer (for streams,
// the start record), so a client can link its review to it.
const SeqHeader = "X-Sote-Audit-Seq"

func setSeq(w Sink, seq int64) {
	if seq > 0 {
		w.Header().Set(SeqHeader, strconv.FormatInt(seq, 10))
	}
}

var hopHeaders = map[string]bool{"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true, "Date": true}

func copyHeaders(dst, src http.Header) {
	for k, vs := range src {
		if hopHeaders[k] {
			continue
		}
		dst[k] = vs
	}
}

func statusKind(status int) assist.Kind {
	switch {
	case status == 400:
		return assist.KindInvalid
	case status == 401:
		return assist.KindUnauthorized
	case status == 404:
		return assist.KindNotFound
	case status == 413:
		return assist.KindTooLarge
	case status == 429:
		return assist.KindBusy
	case status >= 500:
		return assist.KindUpstream
	}
	return assist.KindInvalid
}

// lastLine keeps the last non-empty line of a stream (bounded), which in
// both Ollama NDJSON and OpenAI SSE carries the token counts.
type lastLine struct {
	cur, prev []byte
}

func (l *lastLine) add(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(l.cur) < 64*1024 {
				l.cur = append(l.cur, p...)
			}
			return
		}
		l.cur = append(l.cur, p[:i]...)
		if len(bytes.TrimSpace(l.cur)) > 0 && !bytes.Equal(bytes.TrimSpace(l.cur), []byte("data: [DONE]")) {
			l.prev = append(l.prev[:0], l.cur...)
		}
		l.cur = l.cur[:0]
		p = p[i+1:]
	}
}

func (l *lastLine) bytes() []byte {
	if len(bytes.TrimSpace(l.cur)) > 0 {
		return l.cur
	}
	return l.prev
}

type usage struct {
	prompt, output int
	genSeconds     float64
}

// usageOf reads token counts from an Ollama response object or an OpenAI
// response/chunk ("data: " prefix allowed).
func usageOf(b []byte) usage {
	b = bytes.TrimSpace(b)
	b = bytes.TrimPrefix(b, []byte("data: "))
	if len(b) == 0 || b[0] != '{' {
		return usage{}
	}
	var v struct {
		PromptEvalCount int   `json:"prompt_eval_count"`
		EvalCount       int   `json:"eval_count"`
		EvalDuration    int64 `json:"eval_duration"`
		Usage           *struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal(b, &v) != nil {
		return usage{}
	}
	if v.Usage != nil {
		return usage{prompt: v.Usage.PromptTokens, output: v.Usage.CompletionTokens}
	}
	return usage{prompt: v.PromptEvalCount, output: v.EvalCount, genSeconds: float64(v.EvalDuration) / 1e9}
}
