package risk

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/soteai/gateway/assist"
)

// Generator writes text for a prompt; the gateway's model host pool
// implements it. Errors carry assist kinds (unavailable, busy, timeout,
// upstream, canceled).
type Generator interface {
	Generate(ctx context.Context, prompt string) (string, error)
}

// Summary is an optional plain-language rewording of a result's flags by a
// language model. It never replaces the flags, which stay authoritative.
type Summary struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
	// AIGenerated is true when a language model wrote Text.
	AIGenerated bool `json:"ai_generated"`
	// Label must be shown with the text.
	Label     string   `json:"label"`
	FlagKeys  []string `json:"flag_keys"`
	KBVersion string   `json:"kb_version"`
}

// MaxSummaryChars bounds an accepted summary.
const MaxSummaryChars = 2500

var summaryLabels = Text{
	EN: "AI-generated summary of the rule-based flags. Check it against the flags, which are authoritative.",
	FI: "Tekoälyn tuottama tiivistelmä sääntöpohjaisista liputuksista. Tarkista se liputuksia vasten; liputukset ovat ratkaisevia.",
}

// The summary prompt's template id and version, recorded with every
// summary in the audit log; bump the version whenever SummaryPrompt's
// wording changes.
const (
	SummaryTemplateID      = "risk-summary"
	SummaryTemplateVersion = "1"
)

// SummaryPrompt builds the prompt for a plain-language summary of the
// flags in res. The model is told to use only the flags given, to cite
// every flag key in square brackets and to add nothing.
func SummaryPrompt(res Result, lang string) string {
	language := "English"
	if lang == "fi" {
		language = "Finnish"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `You summarise medication risk flags for a clinician in plain %s.
Rules:
- Use only the flags listed below. Do not add any other risk, drug, dose, diagnosis or advice.
- Mention every flag exactly once and cite its key in square brackets, e.g. [%s].
- Keep the order of the list (most severe first). At most 200 words. Plain text, no headings.
- Do not say the flags are wrong or invent reasons; if unsure, repeat the flag's own wording.

Flags:
`, language, firstKeyOr(res, "DDI-BLEED-01"))
	for _, f := range res.Flags {
		names := make([]string, len(f.Drugs))
		for i, d := range f.Drugs {
			names[i] = d.Name(lang)
		}
		fmt.Fprintf(&b, "[%s] severity %s; %s; drugs: %s\n  why: %s\n  action: %s\n",
			f.Key, f.Severity, f.Title.In(lang), strings.Join(dedupeStrings(names), ", "),
			f.Explanation.In(lang), f.Action.In(lang))
	}
	b.WriteString("\nSummary:\n")
	return b.String()
}

func firstKeyOr(res Result, def string) string {
	if len(res.Flags) > 0 {
		return res.Flags[0].Key
	}
	return def
}

var bracketRe = regexp.MustCompile(`\[([A-Za-z0-9:_-]+)\]`)

// CheckSummary rejects a summary that omits a flag key, cites a key or
// rule id that is not among the flags, or names a catalogue drug that is
// neither involved in a flag nor mentioned in a flag's own text.
func CheckSummary(kb *KB, res Result, text string) error {
	const op = "risk.CheckSummary"
	reject := func(format string, args ...any) error {
		return assist.E(assist.KindUpstream, op, "the generated summary did not pass the consistency check", fmt.Errorf(format, args...))
	}
	if strings.TrimSpace(text) == "" {
		return reject("empty summary")
	}
	if len(text) > MaxSummaryChars {
		return reject("summary longer than %d characters", MaxSummaryChars)
	}
	keys := map[string]bool{}
	ruleIDs := map[string]bool{}
	for _, f := range res.Flags {
		keys[f.Key] = true
		ruleIDs[f.RuleID] = true
	}
	cited := map[string]bool{}
	for _, m := range bracketRe.FindAllStringSubmatch(text, -1) {
		k := m[1]
		if !keys[k] {
			return reject("cites %q, which is not a flag of this result", k)
		}
		cited[k] = true
	}
	for _, f := range res.Flags {
		if !cited[f.Key] {
			return reject("omits flag %s", f.Key)
		}
	}
	for id := range kb.ruleIdx {
		if !ruleIDs[id] && strings.Contains(text, id) {
			return reject("mentions rule %s, which did not fire", id)
		}
	}
	allowed := map[string]bool{}
	for _, f := range res.Flags {
		for _, d := range f.Drugs {
			allowed[d.ATC] = true
		}
		for _, t := range []Text{f.Title, f.Explanation, f.Action} {
			for _, atc := range kb.mentionedDrugs(t.EN + " " + t.FI) {
				allowed[atc] = true
			}
		}
	}
	for _, atc := range kb.mentionedDrugs(text) {
		if !allowed[atc] {
			d, _ := kb.Drug(atc)
			return reject("names %s (%s), which is not part of any flag", d.NameEN, atc)
		}
	}
	return nil
}

// mentionedDrugs returns the ATC codes of catalogue names (generic,
// brand or alias, one to four words) found in text, in order of first
// mention.
func (kb *KB) mentionedDrugs(text string) []string {
	words := strings.Fields(normalizeName(text))
	var out []string
	add := func(atc string) {
		if !slices.Contains(out, atc) {
			out = append(out, atc)
		}
	}
words:
	for i := range words {
		for n := 4; n >= 1; n-- {
			if i+n > len(words) {
				continue
			}
			key := strings.Trim(strings.Join(words[i:i+n], " "), "-/")
			if h, ok := kb.names[key]; ok {
				add(h.atc)
				continue words
			}
		}
		// Finnish inflects names with endings ("varfariinin",
		// "ibuprofeenia"): try the word without up to four final letters.
		w := strings.Trim(words[i], "-/")
		for cut := 1; cut <= 4 && len(w)-cut >= 5; cut++ {
			if h, ok := kb.names[w[:len(w)-cut]]; ok {
				add(h.atc)
				break
			}
		}
	}
	return out
}

// Summarize asks g for a plain-language summary of res and checks it. A
// result without flags gets a fixed sentence and no model call. A summary
// that fails the check is not returned (kind upstream).
func Summarize(ctx context.Context, g Generator, kb *KB, res Result, lang string) (Summary, error) {
	if lang != "fi" {
		lang = "en"
	}
	s := Summary{Lang: lang, KBVersion: res.KBVersion, FlagKeys: []string{}}
	for _, f := range res.Flags {
		s.FlagKeys = append(s.FlagKeys, f.Key)
	}
	if len(res.Flags) == 0 {
		s.Text = Text{EN: "No medication risk flags were found by the rules.", FI: "Säännöt eivät löytäneet lääkitysriskejä."}.In(lang)
		s.Label = Text{EN: "Rule-based result; no AI was used.", FI: "Sääntöpohjainen tulos; tekoälyä ei käytetty."}.In(lang)
		return s, nil
	}
	out, err := g.Generate(ctx, SummaryPrompt(res, lang))
	if err != nil {
		return Summary{}, assist.E("risk.Summarize", err)
	}
	out = strings.TrimSpace(out)
	if err := CheckSummary(kb, res, out); err != nil {
		return Summary{}, err
	}
	s.Text, s.AIGenerated, s.Label = out, true, summaryLabels.In(lang)
	return s, nil
}

func dedupeStrings(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
