package clinic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// Records reads audit records: (*audit.Log).Record. Errors: not_found.
type Records interface {
	Record(ctx context.Context, seq int64) (audit.Record, error)
}

// What the nurse did with the draft.
const (
	DraftAccepted  = "accepted"
	DraftEdited    = "edited"
	DraftDiscarded = "discarded"
)

// Decision is the nurse's decision on a suggestion.
type Decision struct {
	// Suggestion is the suggestion's id (its audit record).
	Suggestion int64 `json:"suggestion"`
	// Urgency is the level the nurse set (a level id of the scale).
	Urgency string `json:"urgency"`
	// Draft is accepted, edited or discarded.
	Draft string `json:"draft"`
	// OriginalText is the draft as suggested (checked against the hash in
	// the suggestion's record); FinalText what the nurse sends (edited).
	OriginalText string `json:"original_text,omitempty"`
	FinalText    string `json:"final_text,omitempty"`
	// Subject is the patient's reference, pseudonymised in the record.
	Subject string `json:"subject,omitempty"`
}

// DecisionResult is the recorded decision.
type DecisionResult struct {
	ID               int64  `json:"id"` // the decision's audit record
	Suggestion       int64  `json:"suggestion"`
	SuggestedUrgency string `json:"suggested_urgency"`
	Urgency          string `json:"urgency"`
	UrgencyChanged   bool   `json:"urgency_changed"`
	// UrgencyDirection is "raised", "lowered" or "" (unchanged).
	UrgencyDirection string `json:"urgency_direction,omitempty"`
	Draft            string `json:"draft"`
	// Diff is a word diff of an edited draft: "-word" removed, "+word"
	// added, unchanged words as they are.
	Diff string `json:"diff,omitempty"`
}

func draftHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Decide records the nurse's decision on a suggestion (kind
// clinic.decision, RelatesTo the suggestion, outcome accepted, edited or
// rejected). Errors: invalid for a bad decision or an original text that
// is not the suggested draft; not_found when the suggestion does not
// exist; unavailable when decisions cannot be recorded.
func (s *Service) Decide(ctx context.Context, d Decision) (DecisionResult, error) {
	const op = "clinic.Decide"
	bad := func(msg string) error { return assist.E(assist.KindInvalid, op, msg) }
	if s.d.Records == nil {
		return DecisionResult{}, assist.E(assist.KindUnavailable, op, "decisions need the audit log, which is disabled")
	}
	switch {
	case d.Suggestion <= 0:
		return DecisionResult{}, bad("suggestion: give the suggestion's id")
	case s.cfg.Scale.Index(d.Urgency) < 0:
		return DecisionResult{}, bad("urgency: not a level of the clinic's scale")
	case d.Draft != DraftAccepted && d.Draft != DraftEdited && d.Draft != DraftDiscarded:
		return DecisionResult{}, bad("draft: must be accepted, edited or discarded")
	case d.Draft == DraftEdited && strings.TrimSpace(d.FinalText) == "":
		return DecisionResult{}, bad("final_text: an edited draft needs the text sent")
	case !utf8.ValidString(d.FinalText) || !utf8.ValidString(d.OriginalText):
		return DecisionResult{}, bad("texts must be valid UTF-8")
	case utf8.RuneCountInString(d.FinalText) > s.cfg.Limits.MaxMessageChars || utf8.RuneCountInString(d.OriginalText) > s.cfg.Limits.MaxMessageChars:
		return DecisionResult{}, assist.E(assist.KindTooLarge, op, fmt.Sprintf("texts: at most %d characters", s.cfg.Limits.MaxMessageChars))
	}
	sug, err := s.d.Records.Record(ctx, d.Suggestion)
	if err != nil || sug.Kind != audit.KindClinicSuggestion {
		return DecisionResult{}, assist.E(assist.KindNotFound, op, "no such suggestion")
	}
	if d.Draft != DraftDiscarded {
		if sug.Attrs["draft_sha256"] == "" {
			return DecisionResult{}, bad("draft: the suggestion had no draft to accept or edit")
		}
		if draftHash(d.OriginalText) != sug.Attrs["draft_sha256"] {
			return DecisionResult{}, bad("original_text: not the draft of this suggestion")
		}
	}
	res := DecisionResult{Suggestion: d.Suggestion, SuggestedUrgency: sug.Attrs["urgency"], Urgency: d.Urgency, Draft: d.Draft}
	if res.SuggestedUrgency != res.Urgency {
		res.UrgencyChanged = true
		res.UrgencyDirection = "lowered"
		if s.cfg.Scale.Index(res.Urgency) < s.cfg.Scale.Index(res.SuggestedUrgency) {
			res.UrgencyDirection = "raised"
		}
	}
	final := d.FinalText
	if d.Draft == DraftAccepted {
		final = d.OriginalText
	}
	if d.Draft == DraftEdited {
		res.Diff = WordDiff(d.OriginalText, final)
	}
	outcome := map[string]audit.Outcome{DraftAccepted: audit.OutcomeAccepted, DraftEdited: audit.OutcomeEdited, DraftDiscarded: audit.OutcomeRejected}[d.Draft]
	in, _ := json.Marshal(struct {
		Decision
		FinalText string `json:"final_text"`
		Diff      string `json:"diff,omitempty"`
	}{d, final, res.Diff})
	e := record.Entry{Event: audit.Event{Kind: audit.KindClinicDecision, Task: assist.TaskClinic, Patient: d.Subject,
		RelatesTo: d.Suggestion, Outcome: outcome, Input: in,
		Attrs: map[string]string{"suggested_urgency": res.SuggestedUrgency, "urgency": res.Urgency,
			"urgency_changed": strconv.FormatBool(res.UrgencyChanged), "urgency_direction": res.UrgencyDirection,
			"draft": d.Draft, "canonical": string(s.cfg.Scale[s.cfg.Scale.Index(d.Urgency)].Canonical)}}}
	seq, err := s.d.Audit.Commit(ctx, e)
	if err != nil {
		return DecisionResult{}, err
	}
	res.ID = seq
	return res, nil
}

// WordDiff returns a word diff of a and b (longest common subsequence):
// removed words as "-word", added as "+word", kept words as they are.
func WordDiff(a, b string) string {
	x, y := strings.Fields(a), strings.Fields(b)
	if len(x)*len(y) > 4_000_000 {
		return "-" + a + " +" + b
	}
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, x[i])
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || l[i][j+1] >= l[i+1][j]):
			out = append(out, "+"+y[j])
			j++
		default:
			out = append(out, "-"+x[i])
			i++
		}
	}
	return strings.Join(out, " ")
}
