package clinic

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/evals"
)

// FeedbackTask is the evaluation task of exported decisions, the same as
// the triage suite's (evals/suite/builtin/data/clinic_triage.jsonl).
const FeedbackTask = "clinic_triage"

// FeedbackCase turns a nurse's decision into an evaluation case for the
// next model release: the conversation from the suggestion's stored
// request, the urgency the nurse set (canonical level) as expected, and
// the reply the nurse sent (accepted or edited). decision is the decision's
// audit record and decisionInput its stored content; suggestionInput is
// the stored request of the suggestion it relates to. Errors: invalid when
// a record is not what it should be.
func FeedbackCase(decision audit.Record, decisionInput, suggestionInput []byte) (evals.Case, error) {
	const op = "clinic.FeedbackCase"
	if decision.Kind != audit.KindClinicDecision {
		return evals.Case{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("record %d is not a clinic decision", decision.Seq))
	}
	var d struct {
		Draft     string `json:"draft"`
		FinalText string `json:"final_text"`
	}
	if err := json.Unmarshal(decisionInput, &d); err != nil {
		return evals.Case{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("decision %d: stored content is not a decision", decision.Seq), err)
	}
	var req Request
	if err := json.Unmarshal(suggestionInput, &req); err != nil || len(req.Conversation) == 0 {
		return evals.Case{}, assist.E(assist.KindInvalid, op, fmt.Sprintf("suggestion %d: stored content is not a clinic request", decision.RelatesTo))
	}
	type msg struct {
		Author Author `json:"author"`
		Text   string `json:"text"`
	}
	in := struct {
		Lang     string `json:"lang,omitempty"`
		Messages []msg  `json:"messages"`
	}{Lang: req.Lang}
	for _, m := range req.Conversation {
		in.Messages = append(in.Messages, msg{m.Author, m.Text})
	}
	exp := struct {
		Urgency string   `json:"urgency"`
		Flags   []string `json:"flags"`
		Reply   string   `json:"reply,omitempty"`
	}{Urgency: decision.Attrs["canonical"], Flags: []string{}}
	if d.Draft == DraftAccepted || d.Draft == DraftEdited {
		exp.Reply = d.FinalText
	}
	tags := []string{"feedback", "draft:" + d.Draft}
	if decision.Attrs["urgency_changed"] == "true" {
		tags = append(tags, "urgency_changed", "urgency:"+decision.Attrs["urgency_direction"])
	}
	ib, _ := json.Marshal(in)
	eb, _ := json.Marshal(exp)
	return evals.Case{ID: "feedback-" + strconv.FormatInt(decision.Seq, 10), Task: FeedbackTask, Input: ib, Expected: eb, Tags: tags,
		Notes: fmt.Sprintf("Nurse decision (audit record %d) on suggestion %d: urgency %s (suggested %s), draft %s.",
			decision.Seq, decision.RelatesTo, decision.Attrs["urgency"], decision.Attrs["suggested_urgency"], d.Draft)}, nil
}
