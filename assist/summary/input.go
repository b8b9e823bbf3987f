package summary

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// Turn is one turn of a visit conversation (or one line of free notes, or
// one FHIR resource rendered as text): the unit a sentence cites.
type Turn struct {
	ID      string   `json:"id"`
	Speaker string   `json:"speaker"`
	Text    string   `json:"text"`
	Start   *float64 `json:"start,omitempty"` // seconds from the start of the visit
	End     *float64 `json:"end,omitempty"`
}

// Request asks for a draft visit note.
type Request struct {
	Turns []Turn `json:"transcript"`
	// Notes are free notes (the clinician's own jottings); each non-empty
	// line becomes a citable source with id "n1", "n2", ….
	Notes string `json:"notes,omitempty"`
	// Context are FHIR R4 resources (Patient, MedicationStatement,
	// Condition, AllergyIntolerance) or a Bundle of them; each becomes a
	// citable source with its "Type/id".
	Context  json.RawMessage `json:"context,omitempty"`
	Template string          `json:"template"`
	Lang     string          `json:"lang"`
	// Names are further names to keep from the model (family members,
	// staff); the patient's names come from the Patient context.
	Names  []string `json:"names,omitempty"`
	Stream bool     `json:"stream,omitempty"`
	// Patient is the patient reference for the audit log (the
	// X-Sote-Patient header); it is never sent to the model.
	Patient string `json:"-"`
}

// Limits bound one request.
type Limits struct {
	MaxTurns     int // default 5,000
	MaxTurnChars int // default 20,000 characters in one turn
	MaxChars     int // default 1,000,000 characters in all
}

func (l Limits) withDefaults() Limits {
	if l.MaxTurns <= 0 {
		l.MaxTurns = 5000
	}
	if l.MaxTurnChars <= 0 {
		l.MaxTurnChars = 20000
	}
	if l.MaxChars <= 0 {
		l.MaxChars = 1_000_000
	}
	return l
}

func invalid(format string, args ...any) error {
	return assist.E(assist.KindInvalid, "summary.validate", fmt.Sprintf(format, args...))
}

// validLang checks a language code.
func validLang(lang string) error {
	if !slices.Contains(Langs, lang) {
		return invalid("unknown lang %q (want fi, sv or en)", lang)
	}
	return nil
}

// sources validates the request and returns every citable source in
// order: the turns, the note lines, then the context resources. Errors:
// invalid (empty, duplicate or malformed ids, bad language), too_large.
// Messages name ids and counts, never text.
func (r *Request) sources(lim Limits, ctx []Turn) ([]Turn, error) {
	lim = lim.withDefaults()
	if err := validLang(r.Lang); err != nil {
		return nil, err
	}
	if len(r.Turns) > lim.MaxTurns {
		return nil, assist.E(assist.KindTooLarge, "summary.validate", fmt.Sprintf("the transcript has %d turns; at most %d are accepted", len(r.Turns), lim.MaxTurns))
	}
	var out []Turn
	seen := map[string]int{}
	total := 0
	add := func(t Turn, where string) error {
		if t.ID == "" {
			return invalid("%s has no id", where)
		}
		if len(t.ID) > 64 || strings.ContainsAny(t.ID, " \t\n\"[]") {
			return invalid("%s: the id must be at most 64 characters without spaces, quotes or brackets", where)
		}
		if j, dup := seen[t.ID]; dup {
			return invalid("duplicate id %q (%s and source %d)", t.ID, where, j+1)
		}
		if !utf8.ValidString(t.Text) || !utf8.ValidString(t.Speaker) {
			return invalid("%s (id %q) is not valid UTF-8", where, t.ID)
		}
		n := utf8.RuneCountInString(t.Text)
		if n > lim.MaxTurnChars {
			return assist.E(assist.KindTooLarge, "summary.validate", fmt.Sprintf("%s (id %q) has %d characters; at most %d are accepted in one turn", where, t.ID, n, lim.MaxTurnChars))
		}
		total += n
		if total > lim.MaxChars {
			return assist.E(assist.KindTooLarge, "summary.validate", fmt.Sprintf("the input has more than %d characters", lim.MaxChars))
		}
		if t.Start != nil && t.End != nil && *t.End < *t.Start {
			return invalid("%s (id %q) ends before it starts", where, t.ID)
		}
		seen[t.ID] = len(out)
		out = append(out, t)
		return nil
	}
	for i, t := range r.Turns {
		if strings.TrimSpace(t.Text) == "" {
			return nil, invalid("transcript turn %d (id %q) has no text", i+1, t.ID)
		}
		if err := add(t, fmt.Sprintf("transcript turn %d", i+1)); err != nil {
			return nil, err
		}
	}
	k := 0
	for line := range strings.SplitSeq(r.Notes, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k++
		if err := add(Turn{ID: fmt.Sprintf("n%d", k), Speaker: "note", Text: strings.TrimSpace(line)}, fmt.Sprintf("note line %d", k)); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, invalid("the transcript is empty and there are no notes: nothing to summarise")
	}
	for _, t := range ctx {
		if err := add(t, "context resource "+t.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
