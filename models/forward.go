package models

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
)

// Transport sends one HTTP request to a host. Implemented by models/ollama.
// A returned error means no response arrived (connection refused, reset
// before headers, timeout).
type Transport interface {
	Send(ctx context.Context, baseURL, path string, body []byte) (*http.Response, error)
}

// Call is one model request to forward.
type Call struct {
	Model string
	// Digest, when set, is the release of Model that must answer: hosts
	// serving another digest under the name are not used (an approved
	// model release; see models/releases).
	Digest   string
	Priority assist.Priority
	Path     string // upstream path, e.g. "/api/chat"
	Body     []byte // exact JSON body to send
}

// Response is an upstream response whose first bytes have arrived. The
// caller streams First and then Body to its client and must call Finish.
type Response struct {
	Lease  *Lease
	cancel context.CancelCauseFunc
	Status int
	Header http.Header
	First  []byte
	Body   io.ReadCloser
	// Attempts is how many hosts were tried (1 without failover).
	Attempts int
}

// Finish closes the body and releases the host slot. err is the error that
// ended streaming, if any; client cancellation does not count against the host.
func (r *Response) Finish(err error) {
	r.Body.Close()
	if r.cancel != nil {
		r.cancel(nil)
	}
	// Neither the client going away nor the gateway's own deadline is the
	// host's fault.
	failed := err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		assist.KindOf(err) != assist.KindCanceled && assist.KindOf(err) != assist.KindTimeout
	r.Lease.Release(failed)
}

// errFirstByte is the cause of an attempt's context when its host missed
// the first-byte deadline.
var errFirstByte = errors.New("no first byte within the deadline")

// Forward runs call on a host and returns once the first bytes of the
// response have arrived. A host that fails before that — refused
// connection, reset, 502/503/504, a body that breaks before its first
// byte, or no first byte within the class's deadline — is marked and the
// call is retried on another host, so a client never sees a failure that
// a healthy host could have served.
func (p *Pool) Forward(ctx context.Context, tr Transport, call Call) (*Response, error) {
	const op = "models.Forward"
	tried := p.otherReleases(call.Model, call.Digest)
	pinnedOut := len(tried) > 0
	var lastErr error
	missed := false
	for attempt := 1; attempt <= p.opts.MaxAttempts; attempt++ {
		lease, err := p.Acquire(ctx, call.Model, call.Priority, tried...)
		if err != nil && lastErr == nil && pinnedOut && assist.KindOf(err) == assist.KindUnavailable {
			return nil, assist.E(assist.KindConflict, op, "no healthy host serves the required release of "+NormaliseModel(call.Model), err)
		}
		if err != nil {
			if lastErr != nil && assist.KindOf(err) == assist.KindUnavailable {
				return nil, assist.E(assist.KindUnavailable, op, "no healthy host could serve the request", lastErr, 5)
			}
			return nil, err
		}
		actx, cancel := context.WithCancelCause(ctx)
		deadline := time.AfterFunc(p.opts.FirstByte[call.Priority], func() { cancel(errFirstByte) })
		resp, down, err := try(actx, tr, lease, call)
		if !deadline.Stop() && err == nil {
			// The deadline fired just as the first bytes came: the
			// attempt's context is canceled, so its body is useless.
			resp.Body.Close()
			resp, err = nil, errFirstByte
		}
		if err == nil {
			resp.Attempts = attempt
			resp.cancel = cancel
			return resp, nil
		}
		cancel(nil)
		if ctx.Err() != nil {
			lease.Release(false)
			return nil, assist.ContextError(op, ctx)
		}
		if errors.Is(context.Cause(actx), errFirstByte) {
			err, missed = errFirstByte, true
			p.log.Warn("upstream missed its first-byte deadline", "host", lease.Host.Name, "attempt", attempt,
				"class", call.Priority.String(), "deadline", p.opts.FirstByte[call.Priority])
			lease.MarkSuspect(isEmbed(call.Path))
		} else {
			p.log.Warn("upstream failed before the first byte", "host", lease.Host.Name, "attempt", attempt, "err", err)
			if down {
				lease.MarkDown()
			}
		}
		lease.Release(true)
		tried = append(tried, lease.Host.Name)
		lastErr = err
	}
	if missed && errors.Is(lastErr, errFirstByte) {
		return nil, assist.E(assist.KindTimeout, op, "no model host answered in time; retry later", lastErr, 2)
	}
	return nil, assist.E(assist.KindUpstream, op, "the model hosts failed; retry later", lastErr, 2)
}

// isEmbed reports whether path is an embedding endpoint (the work probe of
// a suspect host then embeds instead of generating).
func isEmbed(path string) bool { return strings.Contains(path, "embed") }

// try sends call to the leased host and reads the first bytes of its
// answer. An error means nothing reached the client and another host may
// serve the call; down reports that the host itself is unreachable (as
// opposed to answering 502/503/504).
func try(ctx context.Context, tr Transport, lease *Lease, call Call) (r *Response, down bool, err error) {
	resp, err := tr.Send(ctx, lease.Host.URL, call.Path, call.Body)
	if err != nil {
		return nil, true, err
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		resp.Body.Close()
		return nil, false, errors.New(resp.Status)
	}
	buf := make([]byte, 32*1024)
	n, rerr := resp.Body.Read(buf)
	if n == 0 && rerr != nil && rerr != io.EOF {
		resp.Body.Close()
		return nil, true, rerr
	}
	body := resp.Body
	if rerr == io.EOF {
		body = eofBody{resp.Body}
	}
	return &Response{Lease: lease, Status: resp.StatusCode, Header: resp.Header, First: buf[:n], Body: body}, false, nil
}

// eofBody is a body already read to its end.
type eofBody struct{ io.Closer }

func (eofBody) Read([]byte) (int, error) { return 0, io.EOF }

// otherReleases names the hosts that serve model under another digest
// than digest ("" names none).
func (p *Pool) otherReleases(model, digest string) []string {
	if digest == "" {
		return nil
	}
	model = NormaliseModel(model)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, h := range p.hosts {
		if m, ok := h.models[model]; ok && m.Digest != digest {
			out = append(out, h.cfg.Name)
		}
	}
	return out
}
