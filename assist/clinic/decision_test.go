package clinic

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
)

func TestDecideAndExportFeedback(t *testing.T) {
	draft := "Lepää ja juo riittävästi [1]."
	s, _, a := newTestService(t, answer("self_care", draft, []int{1}, "flunssa"))
	req := Request{Conversation: patient("Minulla on flunssa ja nuhaa."), Collection: "ohjeet", Lang: "fi"}
	sg, err := s.Assist(context.Background(), req)
	if err != nil || sg.Draft.Status != DraftReady {
		t.Fatalf("%v %+v", err, sg.Draft)
	}
	for _, tc := range []struct {
		name  string
		d     Decision
		kind  assist.Kind
		check func(t *testing.T, r DecisionResult)
	}{
		{"accepted unchanged", Decision{Suggestion: sg.ID, Urgency: "self_care", Draft: DraftAccepted, OriginalText: draft}, "", func(t *testing.T, r DecisionResult) {
			if r.UrgencyChanged || r.Diff != "" || r.ID == 0 {
				t.Errorf("%+v", r)
			}
		}},
		{"edited and raised", Decision{Suggestion: sg.ID, Urgency: "same_day", Draft: DraftEdited, OriginalText: draft, FinalText: "Lepää ja juo paljon [1]. Soita tänään."}, "", func(t *testing.T, r DecisionResult) {
			if !r.UrgencyChanged || r.UrgencyDirection != "raised" || r.Diff != "Lepää ja juo +paljon -riittävästi [1]. +Soita +tänään." {
				t.Errorf("%+v", r)
			}
		}},
		{"discarded", Decision{Suggestion: sg.ID, Urgency: "self_care", Draft: DraftDiscarded}, "", nil},
		{"original text not the draft", Decision{Suggestion: sg.ID, Urgency: "self_care", Draft: DraftAccepted, OriginalText: "Ota 1000 mg."}, assist.KindInvalid, nil},
		{"edited without text", Decision{Suggestion: sg.ID, Urgency: "self_care", Draft: DraftEdited, OriginalText: draft}, assist.KindInvalid, nil},
		{"unknown level", Decision{Suggestion: sg.ID, Urgency: "soon", Draft: DraftDiscarded}, assist.KindInvalid, nil},
		{"no such suggestion", Decision{Suggestion: 999, Urgency: "self_care", Draft: DraftDiscarded}, assist.KindNotFound, nil},
		{"a model call is not a suggestion", Decision{Suggestion: 41, Urgency: "self_care", Draft: DraftDiscarded}, assist.KindNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.Decide(context.Background(), tc.d)
			if assist.KindOf(err) != tc.kind && !(tc.kind == "" && err == nil) {
				t.Fatalf("err %v, want %q", err, tc.kind)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	// Export the edited decision (second entry after the suggestion).
	var dec record2
	for i, e := range a.entries {
		if e.Kind == audit.KindClinicDecision && e.Outcome == audit.OutcomeEdited {
			dec = record2{seq: int64(42 + i), in: e.Input, attrs: e.Attrs, rel: e.RelatesTo}
		}
	}
	reqJSON, _ := json.Marshal(req)
	c, err := FeedbackCase(audit.Record{Seq: dec.seq, Kind: audit.KindClinicDecision, RelatesTo: dec.rel, Attrs: dec.attrs}, dec.in, reqJSON)
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Urgency, Reply string
		Flags          []string
	}
	if err := c.DecodeExpected(&exp); err != nil || exp.Urgency != "same_day" || !strings.Contains(exp.Reply, "Soita tänään") || !c.HasTag("urgency:raised") {
		t.Fatalf("case %+v, expected %+v (%v)", c, exp, err)
	}
	if !strings.Contains(string(c.Input), "Minulla on flunssa") || c.Task != "clinic_triage" {
		t.Errorf("input %s", c.Input)
	}
}

type record2 struct {
	seq   int64
	in    []byte
	attrs map[string]string
	rel   int64
}
