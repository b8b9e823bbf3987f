package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// Review outcomes.
const (
	OutcomeAccepted = "accepted"
	OutcomeEdited   = "edited"
	OutcomeRejected = "rejected"
)

// ReviewRequest is a clinician's decision on a draft.
type ReviewRequest struct {
	Outcome string `json:"outcome"`
	// Sentences are the edited sentences (edit in place): id and final
	// text; an empty text removes the sentence. Or FinalText gives the
	// whole signed text. One of them for "edited".
	Sentences []SentenceEdit `json:"sentences,omitempty"`
	FinalText string         `json:"final_text,omitempty"`
	// Reason is required for "rejected".
	Reason string `json:"reason,omitempty"`
}

// SentenceEdit is one sentence as the clinician left it.
type SentenceEdit struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Review is a stored review with its quality measures.
type Review struct {
	ID        int64  `json:"id"`
	DraftID   int64  `json:"draft_id"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	FinalText string `json:"final_text,omitempty"`
	// Diff is a line diff of the draft's text and the final text
	// ("-" removed, "+" added lines).
	Diff string `json:"diff,omitempty"`
	// EditDistance is the word-level Levenshtein distance between the
	// draft's text and the final text; DraftWords the draft's word count.
	EditDistance int `json:"edit_distance"`
	DraftWords   int `json:"draft_words"`
	// FlagsTotal counts the draft's flagged (unsupported) sentences;
	// FlagsOverridden those the reviewer kept unchanged in the signed text.
	FlagsTotal      int `json:"flags_total"`
	FlagsOverridden int `json:"flags_overridden"`
	// Edits are the sentences edited in place (outcome edited).
	Edits    []SentenceEdit `json:"edits,omitempty"`
	AuditSeq int64          `json:"audit_seq,omitempty"`
	Created  string         `json:"created,omitempty"`
}

// Assess validates a review against its draft and computes the final
// text, the diff, the edit distance and the overridden flags. Errors:
// invalid (messages name ids, never text).
func Assess(d *Draft, r ReviewRequest) (Review, error) {
	rv := Review{DraftID: d.ID, Outcome: r.Outcome, Reason: strings.TrimSpace(r.Reason)}
	draftText := d.Text()
	rv.DraftWords = len(words(draftText))
	for _, s := range d.Sentences() {
		if !s.Supported {
			rv.FlagsTotal++
		}
	}
	switch r.Outcome {
	case OutcomeAccepted:
		if len(r.Sentences) > 0 || r.FinalText != "" {
			return Review{}, invalid("an accepted draft carries no edits; use outcome \"edited\"")
		}
		rv.FinalText = draftText
		rv.FlagsOverridden = rv.FlagsTotal
	case OutcomeRejected:
		if rv.Reason == "" {
			return Review{}, invalid("a rejection needs a reason")
		}
		if len(r.Sentences) > 0 || r.FinalText != "" {
			return Review{}, invalid("a rejected draft carries no edits")
		}
	case OutcomeEdited:
		switch {
		case len(r.Sentences) > 0 && r.FinalText != "":
			return Review{}, invalid("give either sentences or final_text, not both")
		case len(r.Sentences) > 0:
			edited, err := ApplyEdits(d, r.Sentences)
			if err != nil {
				return Review{}, err
			}
			rv.Edits = r.Sentences
			rv.FinalText = edited.Text()
			for i, s := range d.Sentences() {
				if !s.Supported && edited.Sentences()[i].Text == s.Text {
					rv.FlagsOverridden++
				}
			}
		case strings.TrimSpace(r.FinalText) != "":
			rv.FinalText = strings.TrimSpace(r.FinalText)
			for _, s := range d.Sentences() {
				if !s.Supported && strings.Contains(rv.FinalText, s.Text) {
					rv.FlagsOverridden++
				}
			}
		default:
			return Review{}, invalid("an edited draft needs sentences or final_text")
		}
	default:
		return Review{}, invalid("unknown outcome %q (want accepted, edited or rejected)", r.Outcome)
	}
	if r.Outcome != OutcomeRejected {
		rv.EditDistance = wordDistance(words(draftText), words(rv.FinalText))
		rv.Diff = lineDiff(draftText, rv.FinalText)
	}
	return rv, nil
}

// ApplyEdits returns a copy of d with the edits applied (an empty text
// removes the sentence's text but keeps its place). Errors: invalid for an
// unknown or repeated sentence id.
func ApplyEdits(d *Draft, edits []SentenceEdit) (*Draft, error) {
	c := *d
	c.Sections = make([]DraftSection, len(d.Sections))
	pos := map[string][2]int{}
	for i, s := range d.Sections {
		c.Sections[i] = s
		c.Sections[i].Sentences = append([]Sentence(nil), s.Sentences...)
		for k, x := range s.Sentences {
			pos[x.ID] = [2]int{i, k}
		}
	}
	seen := map[string]bool{}
	for _, e := range edits {
		p, ok := pos[e.ID]
		if !ok {
			return nil, invalid("the draft has no sentence %q", e.ID)
		}
		if seen[e.ID] {
			return nil, invalid("sentence %q edited twice", e.ID)
		}
		seen[e.ID] = true
		c.Sections[p[0]].Sentences[p[1]].Text = strings.TrimSpace(e.Text)
	}
	for i := range c.Sections {
		var keep []Sentence
		for _, s := range c.Sections[i].Sentences {
			keep = append(keep, s)
		}
		c.Sections[i].Sentences = keep
	}
	return &c, nil
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) })
}

// wordDistance is the Levenshtein distance over words.
func wordDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lineDiff is a minimal line diff (longest common subsequence).
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	l := make([][]int, n+1)
	for i := range l {
		l[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			i, j = i+1, j+1
		case j < m && (i == n || l[i][j+1] >= l[i+1][j]):
			fmt.Fprintf(&out, "+%s\n", y[j])
			j++
		default:
			fmt.Fprintf(&out, "-%s\n", x[i])
			i++
		}
	}
	return out.String()
}

// Review records a clinician's review of draft id: validated against the
// draft, written to the audit log (kind review, relating to the draft's
// record) and only then stored. Errors: not_found, conflict (reviewed
// already), invalid, unavailable (audit log or database).
func (s *Service) Review(ctx context.Context, id int64, r ReviewRequest) (*Review, error) {
	if s.Store == nil {
		return nil, assist.E(assist.KindUnavailable, "summary.Review", "drafts are not kept on this gateway")
	}
	st, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if st.Review != nil {
		return nil, assist.E(assist.KindConflict, "summary.Review", "this draft has been reviewed already")
	}
	rv, err := Assess(st.Draft, r)
	if err != nil {
		return nil, err
	}
	out, _ := json.Marshal(rv)
	seq, err := s.Models.Commit(ctx, record.Entry{Event: audit.Event{Kind: audit.KindReview, Task: assist.TaskSummary,
		TemplateID: st.Draft.TemplateID, TemplateVersion: st.Draft.TemplateVersion, Model: st.Draft.Model.Name, ModelDigest: st.Draft.Model.Digest,
		Output: out, RelatesTo: st.Draft.AuditSeq, Outcome: audit.Outcome(rv.Outcome),
		Attrs: map[string]string{"draft_id": strconv.FormatInt(id, 10), "edit_distance": itoa(rv.EditDistance),
			"flags_total": itoa(rv.FlagsTotal), "flags_overridden": itoa(rv.FlagsOverridden)}}})
	if err != nil {
		return nil, err
	}
	rv.AuditSeq = seq
	if err := s.Store.SaveReview(ctx, &rv); err != nil {
		return nil, err
	}
	return &rv, nil
}
