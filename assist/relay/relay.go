package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/models"
)

// Observer receives measurements; implemented by the metrics package.
type Observer interface {
	FirstByte(host string, d time.Duration)
	Tokens(model string, prompt, output int, genSeconds float64)
	Failover(route string)
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

// Relay forwards calls. Every answer is recorded by Rec before it is
// released (with auditing disabled by configuration, Rec records nothing).
type Relay struct {
	Pool      Forwarder
	Transport models.Transport
	Rec       *record.Recorder
	Observe   Observer
	Log       *slog.Logger
	// MaxAnswerBytes bounds a non-streaming answer, which is buffered to
	// be recorded before release; 0 means 32 MiB. A larger answer is a
	// 502 and a record of the refusal, never unbounded memory.
	MaxAnswerBytes int64
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
	// Attrs are recorded with the call (e.g. the priority class used).
	Attrs map[string]string
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
	rec := record.Entry{Event: audit.Event{
		RequestID: c.RequestID, Actor: c.Actor, Task: c.Task, Patient: c.PatientRef,
		Model: resp.Lease.Model.Name, ModelDigest: resp.Lease.Model.Digest, Host: resp.Lease.Host.Name,
		InputHash: inHash[:], Input: c.Body, Attrs: maps.Clone(c.Attrs),
	}, Route: c.Route, Status: resp.Status}
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
func (r *Relay) whole(ctx context.Context, resp *models.Response, rec record.Entry, res Result, start time.Time, w Sink, audited bool) (Result, error) {
	limit := r.MaxAnswerBytes
	if limit <= 0 {
		limit = 32 << 20
	}
	var buf bytes.Buffer
	buf.Write(resp.First)
	_, err := io.Copy(&buf, io.LimitReader(resp.Body, limit+1-int64(len(resp.First))))
	if err == nil && int64(buf.Len()) > limit {
		// Not the host's failure as such: it answered, too much.
		resp.Finish(nil)
		cause := assist.E(assist.KindUpstream, "relay.whole",
			"the model host's answer is larger than the gateway's limit of "+strconv.FormatInt(limit, 10)+" bytes; nothing was released")
		rec.Kind = audit.KindAIOutput
		rec.Latency = time.Since(start)
		rec.Attrs = maps.Clone(rec.Attrs)
		if rec.Attrs == nil {
			rec.Attrs = map[string]string{}
		}
		rec.Attrs["refused"] = "answer_too_large"
		return res, r.Rec.Refuse(ctx, rec, cause)
	}
	if err != nil {
		resp.Finish(err)
		if ctx.Err() != nil {
			return res, assist.ContextError("relay.whole", ctx)
		}
		return res, assist.E(assist.KindUpstream, "relay.whole", "the model host failed before its answer was complete", err)
	}
	resp.Finish(nil)
	out := buf.Bytes()
	outHash := sha256.Sum256(out)
	if audited {
		rec.Kind = audit.KindAIOutput
	}
	rec.OutputHash = outHash[:]
	rec.Output = out
	rec.Latency = time.Since(start)
	rec.Outcome = audit.OutcomeOK
	if resp.Status >= 300 {
		rec.Outcome, rec.ErrorKind = audit.OutcomeError, statusKind(resp.Status)
	}
	var last lastLine
	last.add(out)
	u := usageOf(last.bytes())
	rec.InputTokens, rec.OutputTokens = u.prompt, u.output
	r.tokens(rec.Model, u)
	seq, err := r.Rec.Commit(ctx, rec)
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
func (r *Relay) stream(ctx context.Context, c Call, resp *models.Response, rec record.Entry, res Result, start time.Time, w Sink) (Result, error) {
	rec.Latency = time.Since(start)
	out, err := r.Rec.Begin(ctx, rec, w)
	if err != nil {
		resp.Finish(nil)
		return res, err
	}
	res.Seq = out.Seq()

	copyHeaders(w.Header(), resp.Header)
	setSeq(w, out.Seq())
	w.WriteHeader(resp.Status)
	var last lastLine
	var streamErr error
	chunk := resp.First
	buf := make([]byte, 32*1024)
	for {
		if len(chunk) > 0 {
			last.add(chunk)
			if _, werr := out.Write(chunk); werr != nil {
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
				_, _ = out.Write(chunk)
			}
			if ctx.Err() != nil {
				streamErr = assist.ContextError("relay.stream", ctx)
			} else {
				streamErr = assist.E(assist.KindUpstream, "relay.stream", "the model host failed mid-stream; the output is incomplete", rerr)
			}
			break
		}
	}
	resp.Finish(streamErr)

	u := usageOf(last.bytes())
	r.tokens(rec.Model, u)
	if aerr := out.End(ctx, streamErr, record.Usage{PromptTokens: u.prompt, OutputTokens: u.output}); aerr != nil && streamErr == nil {
		streamErr = aerr
	}
	if streamErr != nil && assist.KindOf(streamErr) != assist.KindCanceled && c.StreamError != nil {
		_, _ = w.Write(c.StreamError(assist.KindOf(streamErr), assist.MessageOf(streamErr)))
		w.Flush()
	}
	return res, streamErr
}

func (r *Relay) tokens(model string, u usage) {
	if r.Observe != nil {
		r.Observe.Tokens(model, u.prompt, u.output, u.genSeconds)
	}
}

// SeqHeader carries the audit record number of an answer (for streams,
// the start record), so a client can link its review to it.
const SeqHeader = record.SeqHeader

func setSeq(w Sink, seq int64) {
	if seq > 0 {
		w.Header().Set(SeqHeader, record.FormatSeq(seq))
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
