package summary

import (
	"strings"

	"github.com/soteai/gateway/assist/summary/grounding"
)

// CheckerGrounder runs the deterministic grounding checker over draft
// sentences: each is compared with the sources it cites (with every
// source when it cites none).
type CheckerGrounder struct{ Checker *grounding.Checker }

var _ Grounder = CheckerGrounder{}

// Check implements Grounder. Sentences without text are skipped; when the
// checker refuses its input the sentences are flagged not_checked.
func (g CheckerGrounder) Check(lang string, sources []Turn, ss []Sentence) []Verdict {
	out := make([]Verdict, len(ss))
	srcs := make([]grounding.Source, len(sources))
	for i, t := range sources {
		srcs[i] = grounding.Source{ID: t.ID, Speaker: t.Speaker, Text: t.Text}
	}
	var draft []grounding.Sentence
	var idx []int
	for i, s := range ss {
		if strings.TrimSpace(s.Text) == "" {
			out[i].Supported = true
			continue
		}
		id := s.ID
		if id == "" {
			id = "x" + itoa(i)
		}
		draft = append(draft, grounding.Sentence{ID: id, Text: s.Text, Cites: s.Cites})
		idx = append(idx, i)
	}
	if len(draft) == 0 {
		return out
	}
	res, err := g.Checker.Check(lang, srcs, draft)
	if err != nil {
		for _, i := range idx {
			out[i].Flags = []Flag{{Type: FlagNotChecked, Message: "the grounding checker could not check this draft"}}
		}
		return out
	}
	for k, r := range res {
		i := idx[k]
		v := Verdict{Supported: r.Supported}
		for _, f := range r.Flags {
			v.Flags = append(v.Flags, Flag{Type: string(f.Type), Message: f.Text, Evidence: f.Evidence, Sources: f.Sources})
		}
		if len(ss[i].Cites) == 0 {
			v.Supported = false
			v.Flags = append(v.Flags, Flag{Type: FlagNoCitation, Message: "the sentence cites no source", Evidence: "best support: " + strings.Join(r.Cites, ", "), Sources: r.Cites})
		}
		out[i] = v
	}
	return out
}
