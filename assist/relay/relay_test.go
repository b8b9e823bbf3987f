package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/models"
)

// fakePool hands out one canned upstream response on a real lease.
type fakePool struct {
	pool *models.Pool
	body io.ReadCloser
}

type prober struct{}

func (prober) Probe(context.Context, string) (models.Probe, error) {
	return models.Probe{Models: []models.ModelInfo{{Name: "m:latest", Digest: "d1"}}}, nil
}

func (f *fakePool) Forward(ctx context.Context, _ models.Transport, c models.Call) (*models.Response, error) {
	l, err := f.pool.Acquire(ctx, c.Model, c.Priority)
	if err != nil {
		return nil, err
	}
	first := make([]byte, 8)
	n, _ := f.body.Read(first)
	return &models.Response{Lease: l, Status: 200, Header: http.Header{}, First: first[:n], Body: f.body, Attempts: 1}, nil
}

func newFakePool(t *testing.T, body io.Reader) *fakePool {
	p := models.NewPool([]models.HostConfig{{Name: "h", URL: "http://h"}}, prober{}, models.Options{}, nil)
	p.CheckNow(context.Background())
	t.Cleanup(p.Close)
	return &fakePool{pool: p, body: io.NopCloser(body)}
}

// recorder keeps records and can fail on a given kind; it notes how many
// body bytes the client had received when each record was written.
type recorder struct {
	recs    []audit.Event
	seen    []int
	failOn  audit.EventKind
	written func() int
}

func (r *recorder) Append(_ context.Context, ev audit.Event) (audit.Receipt, error) {
	if ev.Kind == r.failOn {
		return audit.Receipt{}, errors.New("db down")
	}
	r.recs = append(r.recs, ev)
	r.seen = append(r.seen, r.written())
	return audit.Receipt{Seq: int64(len(r.recs))}, nil
}

// brokenReader yields data and then fails like a dropped connection.
type brokenReader struct{ data io.Reader }

func (b *brokenReader) Read(p []byte) (int, error) {
	n, err := b.data.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestRelay(t *testing.T) {
	const ndjson = "{\"response\":\"a\"}\n{\"response\":\"b\"}\n{\"done\":true,\"prompt_eval_count\":3,\"eval_count\":2}\n"
	inBand := func(k assist.Kind, msg string) []byte {
		return []byte(`{"error":"` + msg + `","kind":"` + string(k) + "\"}\n")
	}
	for _, tc := range []struct {
		name       string
		stream     bool
		body       io.Reader
		failOn     audit.EventKind
		wantErr    assist.Kind
		wantKinds  string
		wantBody   string // prefix of what the client receives
		wantInBand string
		maxAnswer  int64
	}{
		{name: "whole answer recorded before release", body: strings.NewReader(ndjson),
			wantKinds: "ai.output", wantBody: ndjson},
		{name: "whole answer withheld when the audit fails", body: strings.NewReader(ndjson), failOn: "ai.output",
			wantErr: assist.KindUnavailable, wantBody: ""},
		{name: "stream recorded at start and end", stream: true, body: strings.NewReader(ndjson),
			wantKinds: "ai.stream.start,ai.stream.end", wantBody: ndjson},
		{name: "stream not started when the audit fails", stream: true, body: strings.NewReader(ndjson), failOn: "ai.stream.start",
			wantErr: assist.KindUnavailable, wantBody: ""},
		{name: "stream whose end cannot be recorded ends with an error", stream: true, body: strings.NewReader(ndjson), failOn: "ai.stream.end",
			wantErr: assist.KindUnavailable, wantKinds: "ai.stream.start", wantBody: ndjson, wantInBand: `"kind":"unavailable"`},
		{name: "oversize whole answer refused and recorded", body: strings.NewReader(ndjson), maxAnswer: 40,
			wantErr: assist.KindUpstream, wantKinds: "ai.output", wantBody: ""},
		{name: "whole answer at the limit released", body: strings.NewReader(ndjson), maxAnswer: int64(len(ndjson)),
			wantKinds: "ai.output", wantBody: ndjson},
		{name: "host failing mid-stream", stream: true, body: &brokenReader{strings.NewReader(ndjson[:20])},
			wantErr: assist.KindUpstream, wantKinds: "ai.stream.start,ai.stream.end", wantBody: ndjson[:20], wantInBand: `"kind":"upstream"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			rec := &recorder{failOn: tc.failOn, written: func() int { return w.Body.Len() }}
			r := &Relay{Pool: newFakePool(t, tc.body), Rec: record.New(record.Deps{Log: rec}), MaxAnswerBytes: tc.maxAnswer}
			_, err := r.Do(context.Background(), Call{Call: models.Call{Model: "m", Body: []byte(`{"model":"m"}`)},
				Stream: tc.stream, Task: assist.TaskChat, StreamError: inBand}, w)
			if assist.KindOf(err) != tc.wantErr {
				t.Fatalf("error %v, want kind %q", err, tc.wantErr)
			}
			var kinds []string
			for _, r := range rec.recs {
				kinds = append(kinds, string(r.Kind))
			}
			if strings.Join(kinds, ",") != tc.wantKinds {
				t.Fatalf("records %v, want %s", kinds, tc.wantKinds)
			}
			if !strings.HasPrefix(w.Body.String(), tc.wantBody) || (tc.wantBody == "" && w.Body.Len() > 0) {
				t.Fatalf("client got %q", w.Body.String())
			}
			if tc.wantInBand != "" && !strings.Contains(w.Body.String(), tc.wantInBand) {
				t.Fatalf("no in-band error %s in %q", tc.wantInBand, w.Body.String())
			}
			for i, r := range rec.recs {
				if r.Kind != "ai.stream.end" && rec.seen[i] != 0 {
					t.Errorf("%s record written after %d bytes were released", r.Kind, rec.seen[i])
				}
				if r.Kind == "ai.stream.end" {
					want := sha256.Sum256([]byte(tc.wantBody))
					if string(r.OutputHash) != string(want[:]) || r.RelatesTo != 1 {
						t.Errorf("end record: hash of released bytes or link wrong: %+v", r)
					}
				}
				if r.Kind == "ai.output" && tc.wantErr != "" && (r.Outcome != audit.OutcomeError || r.Attrs["refused"] != "answer_too_large") {
					t.Errorf("refusal record: %+v", r)
				}
				if r.Kind == "ai.output" && tc.wantErr == "" && (r.InputTokens != 3 || r.OutputTokens != 2 || r.ModelDigest != "d1") {
					t.Errorf("output record: %+v", r)
				}
			}
			if s := r.Pool.(*fakePool).pool.Stats(); s.Hosts[0].InFlight != 0 {
				t.Error("the host slot was not released")
			}
		})
	}
}
