package record_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// memLog keeps events in memory; it fails on the kinds in failOn.
type memLog struct {
	mu     sync.Mutex
	events []audit.Event
	failOn map[audit.EventKind]bool
	// released reports how much output the caller had released when each
	// event was appended.
	released func() int
	seen     []int
}

func (l *memLog) Append(_ context.Context, ev audit.Event) (audit.Receipt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failOn[ev.Kind] {
		return audit.Receipt{}, errors.New("database down")
	}
	l.events = append(l.events, ev)
	if l.released != nil {
		l.seen = append(l.seen, l.released())
	}
	return audit.Receipt{Seq: int64(len(l.events))}, nil
}

func (l *memLog) kinds() string {
	var k []string
	for _, e := range l.events {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, ",")
}

// TestEntryEvents checks how an entry becomes an audit event: caller and
// request id from the context, route and status as attributes, a patient
// found in the input.
func TestEntryEvents(t *testing.T) {
	hetu := "131052-308T"
	ctx := assist.WithRequestID(assist.WithActor(context.Background(), assist.Actor{TokenID: "ctx-actor"}), "ctx-req")
	attrs := map[string]string{"collection": "guides"}
	tests := []struct {
		name  string
		e     record.Entry
		check func(t *testing.T, ev audit.Event)
	}{
		{name: "task record", e: record.Entry{Event: audit.Event{Kind: audit.KindRetrievalSearch, RequestID: "r1", Actor: assist.Actor{TokenID: "t1"},
			Task: assist.TaskRetrieval, Model: "m", ModelDigest: "sha256:d", Input: []byte(`{"text":"x"}`), Output: []byte(`{}`),
			Sources: []string{"chunk:7"}, Latency: time.Millisecond, Outcome: audit.OutcomeOK, Attrs: attrs}, Route: "/v1/retrieval/search", Status: 200},
			check: func(t *testing.T, ev audit.Event) {
				want := map[string]string{"collection": "guides", "route": "/v1/retrieval/search", "status": "200"}
				if ev.Kind != audit.KindRetrievalSearch || ev.RequestID != "r1" || ev.Actor.TokenID != "t1" || ev.Model != "m" ||
					string(ev.Input) != `{"text":"x"}` || string(ev.Output) != `{}` || len(ev.Sources) != 1 || ev.Patient != "" || !maps.Equal(ev.Attrs, want) {
					t.Errorf("event %+v", ev)
				}
				if len(attrs) != 1 {
					t.Errorf("the entry's attrs were changed: %v", attrs)
				}
			}},
		{name: "caller and request id from the context", e: record.Entry{Event: audit.Event{Kind: audit.KindAIOutput}},
			check: func(t *testing.T, ev audit.Event) {
				if ev.Actor.TokenID != "ctx-actor" || ev.RequestID != "ctx-req" || ev.Attrs != nil {
					t.Errorf("event %+v", ev)
				}
			}},
		{name: "hashes only", e: record.Entry{Event: audit.Event{Kind: audit.KindRetrievalDelete, InputHash: []byte{1}, OutputHash: []byte{2}}, Route: "/r", Status: 204},
			check: func(t *testing.T, ev audit.Event) {
				if ev.Attrs["route"] != "/r" || ev.Attrs["status"] != "204" || len(ev.InputHash) != 1 || ev.Input != nil {
					t.Errorf("event %+v", ev)
				}
			}},
		{name: "identity code in the input", e: record.Entry{Event: audit.Event{Kind: audit.KindAIOutput, Input: []byte(`{"text":"` + hetu + `"}`)}},
			check: func(t *testing.T, ev audit.Event) {
				if ev.Patient != hetu {
					t.Errorf("patient %q", ev.Patient)
				}
			}},
		{name: "named patient wins", e: record.Entry{Event: audit.Event{Kind: audit.KindAIOutput, Patient: "p-1", Input: []byte(hetu)}},
			check: func(t *testing.T, ev audit.Event) {
				if ev.Patient != "p-1" {
					t.Errorf("patient %q", ev.Patient)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &memLog{}
			if _, err := record.New(record.Deps{Log: l}).Commit(ctx, tt.e); err != nil {
				t.Fatal(err)
			}
			tt.check(t, l.events[0])
		})
	}
}

func TestCommitFailsClosed(t *testing.T) {
	l := &memLog{failOn: map[audit.EventKind]bool{audit.KindAIOutput: true}}
	r := record.New(record.Deps{Log: l})
	_, err := r.Commit(context.Background(), record.Entry{Event: audit.Event{Kind: audit.KindAIOutput}})
	if assist.KindOf(err) != assist.KindUnavailable || strings.Contains(assist.MessageOf(err), "database") {
		t.Fatalf("error %v (message %q)", err, assist.MessageOf(err))
	}
	cause := assist.E(assist.KindInvalid, "x", "bad input")
	if got := r.Refuse(context.Background(), record.Entry{Event: audit.Event{Kind: audit.KindAIOutput}}, cause); got != cause {
		t.Fatalf("a refusal must be answered even when unrecorded: %v", got)
	}
	off := record.New(record.Deps{})
	if seq, err := off.Commit(context.Background(), record.Entry{Event: audit.Event{Kind: audit.KindAIOutput}}); seq != 0 || err != nil || off.Enabled() {
		t.Fatalf("auditing disabled: %d %v", seq, err)
	}
}

// TestStream checks the stream records: start before the first byte, end
// with the hash of exactly the released bytes, an error when the end
// cannot be recorded.
func TestStream(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failOn    audit.EventKind
		cause     error
		wantBegin assist.Kind
		wantEnd   assist.Kind
		wantKinds string
		outcome   audit.Outcome
	}{
		{name: "recorded at start and end", wantKinds: "ai.stream.start,ai.stream.end", outcome: audit.OutcomeOK},
		{name: "not started when the start cannot be recorded", failOn: audit.KindStreamStart, wantBegin: assist.KindUnavailable},
		{name: "end not recorded", failOn: audit.KindStreamEnd, wantEnd: assist.KindUnavailable, wantKinds: "ai.stream.start"},
		{name: "client went away", cause: assist.E(assist.KindCanceled, "x"), wantKinds: "ai.stream.start,ai.stream.end", outcome: audit.OutcomeCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			l := &memLog{failOn: map[audit.EventKind]bool{tc.failOn: true}, released: out.Len}
			r := record.New(record.Deps{Log: l})
			s, err := r.Begin(context.Background(), record.Entry{Event: audit.Event{Input: []byte("prompt")}}, &out)
			if assist.KindOf(err) != tc.wantBegin {
				t.Fatalf("Begin: %v", err)
			}
			if err != nil {
				if len(l.events) != 0 || out.Len() != 0 {
					t.Fatalf("released %q", out.String())
				}
				return
			}
			_, _ = s.Write([]byte("hello "))
			_, _ = s.Write([]byte("world"))
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the end is recorded even after the client left
			if err := s.End(ctx, tc.cause, record.Usage{PromptTokens: 3, OutputTokens: 2}); assist.KindOf(err) != tc.wantEnd {
				t.Fatalf("End: %v", err)
			}
			if l.kinds() != tc.wantKinds {
				t.Fatalf("records %s, want %s", l.kinds(), tc.wantKinds)
			}
			if l.seen[0] != 0 {
				t.Errorf("%d bytes released before the start record", l.seen[0])
			}
			if len(l.events) < 2 {
				return
			}
			end := l.events[1]
			sum := sha256.Sum256([]byte("hello world"))
			in := sha256.Sum256([]byte("prompt"))
			if !bytes.Equal(end.OutputHash, sum[:]) || !bytes.Equal(end.InputHash, in[:]) || end.Input != nil || end.RelatesTo != 1 ||
				end.Outcome != tc.outcome || end.OutputTokens != 2 {
				t.Errorf("end record %+v", end)
			}
		})
	}
}

// fakeModels answers every request with text, or fails.
type fakeModels struct {
	text string
	err  error
	reqs []record.Request
}

func (f *fakeModels) Generate(_ context.Context, req record.Request) (record.Generation, error) {
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return record.Generation{}, f.err
	}
	return record.Generation{Text: f.text, Model: req.Model.Name, Digest: "sha256:abc", Host: "h1", PromptTokens: 5, OutputTokens: 7}, nil
}

func (f *fakeModels) GenerateStream(_ context.Context, req record.Request, emit func(record.Piece) error) (record.Generation, error) {
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return record.Generation{}, f.err
	}
	for _, w := range strings.SplitAfter(f.text, " ") {
		if err := emit(record.Piece{Text: w, Host: "h1", Digest: "sha256:abc"}); err != nil {
			return record.Generation{}, err
		}
	}
	return record.Generation{Model: req.Model.Name, Digest: "sha256:abc", Host: "h1", PromptTokens: 5, OutputTokens: 7}, nil
}

func TestGenerate(t *testing.T) {
	ctx := assist.WithActor(context.Background(), assist.Actor{TokenID: "clin-1", Role: assist.RoleClinician})
	call := record.Call{Task: assist.TaskSummary, Template: record.TemplateRef{ID: "visit_summary.soap", Version: "2"},
		Priority: assist.PriorityInteractive, Patient: "pat-1", System: "sys", Prompt: "turns", Format: "json"}
	resolver := record.Configured{Default: "chat-model", Tasks: map[assist.Task]string{assist.TaskSummary: "summary-model"}}

	t.Run("recorded, then released", func(t *testing.T) {
		l := &memLog{}
		m := &fakeModels{text: "draft"}
		r := record.New(record.Deps{Log: l, Models: m, Resolver: resolver})
		res, err := r.Generate(ctx, call)
		if err != nil || res.Text != "draft" || res.Seq != 1 || res.Model != (record.Model{Name: "summary-model", Digest: "sha256:abc"}) {
			t.Fatalf("%+v %v", res, err)
		}
		ev := l.events[0]
		if ev.Kind != audit.KindAIOutput || ev.Task != assist.TaskSummary || ev.TemplateID != "visit_summary.soap" || ev.TemplateVersion != "2" ||
			ev.Model != "summary-model" || ev.ModelDigest != "sha256:abc" || ev.Host != "h1" || ev.Patient != "pat-1" ||
			ev.Actor.TokenID != "clin-1" || string(ev.Output) != "draft" || ev.InputTokens != 5 || ev.OutputTokens != 7 || ev.Outcome != audit.OutcomeOK {
			t.Errorf("record %+v", ev)
		}
		if m.reqs[0].Format != "json" || m.reqs[0].Priority != assist.PriorityInteractive || m.reqs[0].System != "sys" {
			t.Errorf("request %+v", m.reqs[0])
		}
	})
	t.Run("withheld when the record fails", func(t *testing.T) {
		l := &memLog{failOn: map[audit.EventKind]bool{audit.KindAIOutput: true}}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{text: "draft"}, Resolver: resolver})
		res, err := r.Generate(ctx, call)
		if assist.KindOf(err) != assist.KindUnavailable || res.Text != "" {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("a failed call is recorded", func(t *testing.T) {
		l := &memLog{}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{err: assist.E(assist.KindBusy, "x", "queue full")}, Resolver: resolver})
		if _, err := r.Generate(ctx, call); assist.KindOf(err) != assist.KindBusy {
			t.Fatal(err)
		}
		if len(l.events) != 1 || l.events[0].Outcome != audit.OutcomeError || l.events[0].ErrorKind != assist.KindBusy {
			t.Fatalf("records %+v", l.events)
		}
	})
	t.Run("sub-calls are linked to their task's record", func(t *testing.T) {
		l := &memLog{}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{text: "part"}, Resolver: resolver})
		task, err := r.Commit(ctx, record.Entry{Event: audit.Event{Kind: "summary.request", Task: assist.TaskSummary}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			c := call
			c.RelatesTo = task
			c.Attrs = map[string]string{"step": "map", "segment": string(rune('1' + i))}
			if _, err := r.Generate(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, ev := range l.events[1:] {
			if ev.RelatesTo != task || ev.Attrs["step"] != "map" {
				t.Errorf("sub-call record %+v", ev)
			}
		}
	})
	t.Run("no model for the task", func(t *testing.T) {
		r := record.New(record.Deps{Log: &memLog{}, Models: &fakeModels{}, Resolver: record.Configured{}})
		if _, err := r.Generate(ctx, call); assist.KindOf(err) != assist.KindUnavailable {
			t.Fatal(err)
		}
	})
}

func TestStreamCall(t *testing.T) {
	call := record.Call{Task: assist.TaskInterpret, Priority: assist.PriorityRealtime, Prompt: "p", Model: &record.Model{Name: "m"}}
	t.Run("start before the first piece, end with its hash", func(t *testing.T) {
		var got strings.Builder
		l := &memLog{released: func() int { return got.Len() }}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{text: "hei maailma"}})
		res, err := r.Stream(context.Background(), call, func(s string) error { got.WriteString(s); return nil })
		if err != nil || got.String() != "hei maailma" || res.Seq != 1 {
			t.Fatalf("%+v %v %q", res, err, got.String())
		}
		sum := sha256.Sum256([]byte("hei maailma"))
		if l.kinds() != "ai.stream.start,ai.stream.end" || l.seen[0] != 0 || !bytes.Equal(l.events[1].OutputHash, sum[:]) ||
			l.events[0].Host != "h1" || l.events[0].ModelDigest != "sha256:abc" {
			t.Fatalf("records %s %+v", l.kinds(), l.events)
		}
	})
	t.Run("in-band error when the end cannot be recorded", func(t *testing.T) {
		l := &memLog{failOn: map[audit.EventKind]bool{audit.KindStreamEnd: true}}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{text: "a b"}})
		_, err := r.Stream(context.Background(), call, func(string) error { return nil })
		if assist.KindOf(err) != assist.KindUnavailable {
			t.Fatal(err)
		}
	})
	t.Run("nothing emitted when the start cannot be recorded", func(t *testing.T) {
		l := &memLog{failOn: map[audit.EventKind]bool{audit.KindStreamStart: true}}
		r := record.New(record.Deps{Log: l, Models: &fakeModels{text: "a b"}})
		n := 0
		_, err := r.Stream(context.Background(), call, func(string) error { n++; return nil })
		if assist.KindOf(err) != assist.KindUnavailable || n != 0 {
			t.Fatalf("%v, %d pieces emitted", err, n)
		}
	})
}
