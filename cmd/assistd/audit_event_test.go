package main

import (
	"maps"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/relay"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
)

// TestCallEvents checks the mapping of the relay's and the task endpoints'
// records to audit events (no database needed).
func TestCallEvents(t *testing.T) {
	hetu := "131052-308T"
	task := httpapi.TaskRecord{
		Kind: audit.KindRetrievalSearch, RequestID: "r1", Actor: assist.Actor{TokenID: "t1"}, Task: assist.TaskRetrieval,
		Route: "/v1/retrieval/search", Model: "m", ModelDigest: "sha256:d", Input: []byte(`{"text":"x"}`), Output: []byte(`{}`),
		Sources: []string{"chunk:7"}, Latency: time.Millisecond, Outcome: "ok", Status: 200,
		Attrs: map[string]string{"collection": "guides"},
	}
	tests := []struct {
		name  string
		ev    audit.Event
		check func(t *testing.T, ev audit.Event)
	}{
		{name: "task record", ev: taskEvent(task), check: func(t *testing.T, ev audit.Event) {
			want := map[string]string{"collection": "guides", "route": "/v1/retrieval/search", "status": "200"}
			if ev.Kind != audit.KindRetrievalSearch || ev.Task != assist.TaskRetrieval || ev.RequestID != "r1" || ev.Actor.TokenID != "t1" ||
				ev.Model != "m" || ev.ModelDigest != "sha256:d" || string(ev.Input) != `{"text":"x"}` || string(ev.Output) != `{}` ||
				len(ev.Sources) != 1 || ev.Latency != time.Millisecond || ev.Outcome != audit.OutcomeOK || ev.Patient != "" || !maps.Equal(ev.Attrs, want) {
				t.Errorf("event %+v", ev)
			}
			if len(task.Attrs) != 1 {
				t.Errorf("the record's attrs were changed: %v", task.Attrs)
			}
		}},
		{name: "task record without attrs, hashes only", ev: taskEvent(httpapi.TaskRecord{Kind: audit.KindRetrievalDelete, Route: "/r", Status: 204,
			InputSHA256: []byte{1}, OutputSHA256: []byte{2}}), check: func(t *testing.T, ev audit.Event) {
			if ev.Attrs["route"] != "/r" || ev.Attrs["status"] != "204" || len(ev.InputHash) != 1 || len(ev.OutputHash) != 1 || ev.Input != nil {
				t.Errorf("event %+v", ev)
			}
		}},
		{name: "identity code in a task input", ev: taskEvent(httpapi.TaskRecord{Input: []byte(`{"text":"` + hetu + `"}`)}),
			check: func(t *testing.T, ev audit.Event) {
				if ev.Patient != hetu {
					t.Errorf("patient %q", ev.Patient)
				}
			}},
		{name: "named patient wins", ev: taskEvent(httpapi.TaskRecord{PatientRef: "p-1", Input: []byte(hetu)}),
			check: func(t *testing.T, ev audit.Event) {
				if ev.Patient != "p-1" {
					t.Errorf("patient %q", ev.Patient)
				}
			}},
		{name: "relay output", ev: relayEvent(relay.Record{Kind: string(audit.KindAIOutput), Route: "/api/generate", Status: 200, Host: "h1",
			Input: []byte("Potilas " + hetu), InputSHA256: []byte{1}, OutputSHA256: []byte{2}, PromptTokens: 3, OutputTokens: 4}),
			check: func(t *testing.T, ev audit.Event) {
				if ev.Kind != audit.KindAIOutput || ev.Host != "h1" || ev.InputTokens != 3 || ev.OutputTokens != 4 || ev.Patient != hetu ||
					len(ev.OutputHash) != 1 || ev.Input == nil || !maps.Equal(ev.Attrs, map[string]string{"route": "/api/generate", "status": "200"}) {
					t.Errorf("event %+v", ev)
				}
			}},
		{name: "relay stream start has no output hash", ev: relayEvent(relay.Record{Kind: string(audit.KindStreamStart), OutputSHA256: []byte{2}}),
			check: func(t *testing.T, ev audit.Event) {
				if ev.OutputHash != nil {
					t.Errorf("event %+v", ev)
				}
			}},
		{name: "relay stream end repeats no input", ev: relayEvent(relay.Record{Kind: string(audit.KindStreamEnd), RelatesTo: 5, Input: []byte(hetu)}),
			check: func(t *testing.T, ev audit.Event) {
				if ev.Input != nil || ev.RelatesTo != 5 || ev.Patient != "" {
					t.Errorf("event %+v", ev)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, tt.ev) })
	}
}
