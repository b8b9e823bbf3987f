package grounding

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/soteai/gateway/assist"
)

// Request is a check asked for on its own (POST /v1/summaries/check,
// assist summary check): a transcript (or note spans, or facts), a draft
// written by anyone, and the language.
type Request struct {
	Transcript []Source   `json:"transcript"`
	Draft      []Sentence `json:"draft"`
	Lang       string     `json:"lang"`
}

// Response is the verdict on every sentence of a Request's draft, in
// draft order.
type Response struct {
	Sentences   []Result `json:"sentences"`
	Supported   int      `json:"supported"`
	Unsupported int      `json:"unsupported"`
	// Catalogue is the version of the substance catalogue drug names came
	// from (the risk knowledge base), when it has one.
	Catalogue string `json:"catalogue,omitempty"`
}

// Limits bound a Request. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	MaxSources   int // transcript turns (or spans, or facts)
	MaxSentences int // draft sentences
	MaxTextChars int // characters of one turn or sentence
	MaxChars     int // characters of all texts together
}

// DefaultLimits are the limits used where none are configured.
var DefaultLimits = Limits{MaxSources: 5000, MaxSentences: 2000, MaxTextChars: 20000, MaxChars: 1_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxSources <= 0 {
		l.MaxSources = DefaultLimits.MaxSources
	}
	if l.MaxSentences <= 0 {
		l.MaxSentences = DefaultLimits.MaxSentences
	}
	if l.MaxTextChars <= 0 {
		l.MaxTextChars = DefaultLimits.MaxTextChars
	}
	if l.MaxChars <= 0 {
		l.MaxChars = DefaultLimits.MaxChars
	}
	return l
}

// Validate checks a request against the limits. Errors (never quoting the
// texts): invalid for an unknown language, an empty transcript or draft,
// empty, duplicate or unknown ids; too_large past a limit.
func (r Request) Validate(l Limits) error {
	const op = "grounding.Validate"
	l = l.withDefaults()
	if r.Lang == "" {
		return assist.E(assist.KindInvalid, op, `"lang" is required: one of fi, sv, en`)
	}
	if !validLang(r.Lang) {
		return assist.E(assist.KindInvalid, op, fmt.Sprintf("unknown lang %q: one of fi, sv, en", truncate(r.Lang, 16)))
	}
	if len(r.Transcript) == 0 {
		return assist.E(assist.KindInvalid, op, `"transcript" is empty: give at least one turn {id, speaker, text}`)
	}
	if len(r.Draft) == 0 {
		return assist.E(assist.KindInvalid, op, `"draft" is empty: give at least one sentence {id, text}`)
	}
	if len(r.Transcript) > l.MaxSources {
		return assist.E(assist.KindTooLarge, op, fmt.Sprintf("the transcript has %d turns, more than the limit of %d", len(r.Transcript), l.MaxSources))
	}
	if len(r.Draft) > l.MaxSentences {
		return assist.E(assist.KindTooLarge, op, fmt.Sprintf("the draft has %d sentences, more than the limit of %d", len(r.Draft), l.MaxSentences))
	}
	total := 0
	ids := make(map[string]bool, len(r.Transcript))
	for i, s := range r.Transcript {
		where := "transcript turn " + strconv.Itoa(i+1)
		if s.ID == "" {
			return assist.E(assist.KindInvalid, op, where+" has no id")
		}
		if ids[s.ID] {
			return assist.E(assist.KindInvalid, op, "duplicate turn id "+strconv.Quote(truncate(s.ID, 64)))
		}
		ids[s.ID] = true
		n := utf8.RuneCountInString(s.Text)
		if n > l.MaxTextChars {
			return assist.E(assist.KindTooLarge, op, fmt.Sprintf("%s has %d characters, more than the limit of %d", where, n, l.MaxTextChars))
		}
		total += n
	}
	sids := make(map[string]bool, len(r.Draft))
	for i, s := range r.Draft {
		where := "draft sentence " + strconv.Itoa(i+1)
		if s.ID == "" {
			return assist.E(assist.KindInvalid, op, where+" has no id")
		}
		if sids[s.ID] {
			return assist.E(assist.KindInvalid, op, "duplicate sentence id "+strconv.Quote(truncate(s.ID, 64)))
		}
		sids[s.ID] = true
		for _, cid := range s.Cites {
			if !ids[cid] {
				return assist.E(assist.KindInvalid, op, fmt.Sprintf("%s cites %q, which is not a turn id", where, truncate(cid, 64)))
			}
		}
		n := utf8.RuneCountInString(s.Text)
		if n > l.MaxTextChars {
			return assist.E(assist.KindTooLarge, op, fmt.Sprintf("%s has %d characters, more than the limit of %d", where, n, l.MaxTextChars))
		}
		total += n
	}
	if total > l.MaxChars {
		return assist.E(assist.KindTooLarge, op, fmt.Sprintf("the texts have %d characters together, more than the limit of %d", total, l.MaxChars))
	}
	return nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// versioned is a catalogue that names its version (*risk.KB does).
type versioned interface{ Version() string }

// CheckRequest validates r against l and checks its draft.
func (c *Checker) CheckRequest(r Request, l Limits) (Response, error) {
	if err := r.Validate(l); err != nil {
		return Response{}, err
	}
	res, err := c.Check(r.Lang, r.Transcript, r.Draft)
	if err != nil {
		return Response{}, err
	}
	out := Response{Sentences: res, Catalogue: c.catalogue}
	for _, s := range res {
		if s.Supported {
			out.Supported++
		} else {
			out.Unsupported++
		}
	}
	return out, nil
}
