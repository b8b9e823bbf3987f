package cdshooks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/fhirin"
)

// Card types (CDS Hooks 2.0, "CDS Service Response").
type (
	// Response is the body of a service call response. Extension
	// carries ExtNotes: response-level notes such as
	// "current_medications_not_provided".
	Response struct {
		Cards     []Card         `json:"cards"`
		Extension map[string]any `json:"extension,omitempty"`
	}
	// Card is one piece of guidance shown to the clinician.
	Card struct {
		UUID              string       `json:"uuid,omitempty"`
		Summary           string       `json:"summary"`
		Detail            string       `json:"detail,omitempty"`
		Indicator         string       `json:"indicator"`
		Source            Source       `json:"source"`
		Suggestions       []Suggestion `json:"suggestions,omitempty"`
		SelectionBehavior string       `json:"selectionBehavior,omitempty"`
		// Extension carries ExtStableID, the card's deterministic id.
		Extension map[string]any `json:"extension,omitempty"`
	}
	// Source is the card's provenance.
	Source struct {
		Label string  `json:"label"`
		URL   string  `json:"url,omitempty"`
		Topic *Coding `json:"topic,omitempty"`
	}
	// Coding is a FHIR-style coding.
	Coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	// Suggestion is an action the clinician can accept.
	Suggestion struct {
		Label         string   `json:"label"`
		UUID          string   `json:"uuid,omitempty"`
		IsRecommended bool     `json:"isRecommended,omitempty"`
		Actions       []Action `json:"actions,omitempty"`
	}
	// Action changes a draft order.
	Action struct {
		Type        string `json:"type"`
		Description string `json:"description"`
		// ResourceID is a relative reference, used by delete actions.
		ResourceID string `json:"resourceId,omitempty"`
	}
)

// Card indicators.
const (
	IndicatorInfo     = "info"
	IndicatorWarning  = "warning"
	IndicatorCritical = "critical"
)

// Extension keys. The card uuid is unique per response (CDS Hooks:
// feedback names the card instance); ExtStableID is the same for the same
// flag on the same medicines in every response, for linking feedback and
// audit records across calls.
const (
	ExtStableID = "org.soteai.stable-id"
	ExtNotes    = "org.soteai.notes"
)

// MaxSummary is the longest card summary produced: CDS Hooks asks for
// fewer than 140 characters.
const MaxSummary = 139

// CardOptions tunes rendering.
type CardOptions struct {
	// Lang is "fi" (default) or "en".
	Lang string
	// AllFlags shows flags that do not involve a new (draft) medicine
	// too; by default a hook shows only what the orders being placed
	// change, as clinicians see the rest at medication review.
	AllFlags bool
	// NewUUID makes card and suggestion uuids; nil means random (version
	// 4) uuids. Tests inject a deterministic source.
	NewUUID func() string

	hookInstance string
}

func (o CardOptions) uuid() string {
	if o.NewUUID != nil {
		return o.NewUUID()
	}
	return uuid.NewString()
}

func (o CardOptions) lang() string {
	if o.Lang == "en" {
		return "en"
	}
	return "fi"
}

// Indicator maps a severity to a card indicator.
func Indicator(s risk.Severity) string {
	switch s {
	case risk.SeverityHigh:
		return IndicatorCritical
	case risk.SeverityModerate:
		return IndicatorWarning
	}
	return IndicatorInfo
}

// Cards renders an assessment as CDS Hooks cards, one per flag in the
// result's order, then one information card for anything not assessed
// (notes and skipped resources). It is deterministic.
func Cards(res risk.Result, skipped []fhirin.Skipped, opt CardOptions) Response {
	lang := opt.lang()
	newIdx := map[int]bool{}
	for _, d := range res.Drugs {
		if d.New {
			newIdx[d.Index] = true
		}
	}
	cards := []Card{}
	var resp Response
	for _, n := range res.Notes {
		if n.Reason == risk.NoteMedicationsNotProvided {
			// First, so it is read before any card computed without the list.
			cards = append(cards, medicationsMissingCard(res, n, lang))
			resp.Extension = map[string]any{ExtNotes: []string{string(n.Reason)}}
		}
	}
	for _, f := range res.Flags {
		if !opt.AllFlags && !involvesNew(f, newIdx) {
			continue
		}
		cards = append(cards, flagCard(res, f, lang))
	}
	if c, ok := notesCard(res, skipped, newIdx, opt.AllFlags, lang); ok {
		cards = append(cards, c)
	}
	// Unique uuids per response; the deterministic ids go to extensions.
	for i := range cards {
		stable := cards[i].UUID
		cards[i].UUID = opt.uuid()
		cards[i].Extension = map[string]any{ExtStableID: stable}
		for j := range cards[i].Suggestions {
			cards[i].Suggestions[j].UUID = opt.uuid()
		}
	}
	resp.Cards = cards
	return resp
}

// medicationsMissingCard says that the current medication list was not
// sent, so only the draft orders were assessed.
func medicationsMissingCard(res risk.Result, n risk.Note, lang string) Card {
	summary := map[string]string{
		"fi": "Nykyistä lääkitystä ei saatu: vain luonnosmääräykset arvioitiin",
		"en": "Current medications not provided: only the draft orders were assessed",
	}[lang]
	return Card{
		UUID:      stableUUID("notes", string(n.Reason)),
		Summary:   summary,
		Detail:    n.Message.In(lang) + "\n\n" + labels[lang]["kb"] + " " + res.KBVersion,
		Indicator: IndicatorInfo,
		Source:    Source{Label: "Medication risk rules " + res.KBVersion},
	}
}

func involvesNew(f risk.Flag, newIdx map[int]bool) bool {
	for _, d := range f.Drugs {
		if newIdx[d.Index] {
			return true
		}
	}
	return false
}

func flagCard(res risk.Result, f risk.Flag, lang string) Card {
	names := make([]string, 0, len(f.Drugs))
	atcs := make([]string, 0, len(f.Drugs))
	for _, d := range f.Drugs {
		n := d.Name(lang)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
		atcs = append(atcs, d.ATC)
	}
	slices.Sort(atcs)
	summary := truncate(f.Title.In(lang)+": "+strings.Join(names, " + "), MaxSummary)
	src := f.Sources[0]
	c := Card{
		UUID:      stableUUID("flag", f.Key, strings.Join(atcs, ",")),
		Summary:   summary,
		Detail:    detail(res, f, lang),
		Indicator: Indicator(f.Severity),
		Source: Source{
			Label: truncate(src.Label+" · "+f.RuleID, 120),
			URL:   src.URL,
			Topic: &Coding{Code: f.RuleID, Display: f.Title.In(lang)},
		},
	}
	// Removing a draft order is always a safe choice to offer (it starts
	// nothing new); it is never marked as recommended: the clinician
	// weighs the indication.
	if f.Severity != risk.SeverityLow {
		for _, d := range f.Drugs {
			if !d.New || !strings.HasPrefix(d.Ref, "MedicationRequest/") {
				continue
			}
			label := map[string]string{"fi": "Poista luonnosmääräys: ", "en": "Remove draft order: "}[lang] + d.Name(lang)
			c.Suggestions = append(c.Suggestions, Suggestion{
				Label: label,
				UUID:  stableUUID("suggestion", f.Key, d.Ref),
				Actions: []Action{{
					Type:        "delete",
					Description: label,
					ResourceID:  d.Ref,
				}},
			})
		}
		if len(c.Suggestions) > 0 {
			c.SelectionBehavior = "at-most-one"
		}
	}
	return c
}

var labels = map[string]map[string]string{
	"fi": {"why": "Miksi", "action": "Toimi näin", "mechanism": "Mekanismi (en)", "basis": "Peruste", "rule": "Sääntö", "kb": "tietokanta", "sources": "Lähteet", "severity": "Vakavuus",
		"high": "suuri", "moderate": "kohtalainen", "low": "vähäinen", "age": "ikä", "years": "v", "acb": "ACB-pisteet", "count": "lääkkeitä", "falls": "kaatumisia", "conditions": "diagnoosit", "substituted": "CrCl ei saatavilla, käytetty eGFR:ää",
		"daily": "vuorokausiannos", "day": "vrk", "duration": "käytön kesto", "days": "vrk", "prn": "tarvittaessa otettava",
		"weight": "paino", "creatinine": "kreatiniini", "met": "täyttyvät kriteerit (en)"},
	"en": {"why": "Why", "action": "What to do", "mechanism": "Mechanism", "basis": "Basis", "rule": "Rule", "kb": "knowledge base", "sources": "Sources", "severity": "Severity",
		"high": "high", "moderate": "moderate", "low": "low", "age": "age", "years": "y", "acb": "ACB score", "count": "drugs", "falls": "history of falls", "conditions": "diagnoses", "substituted": "CrCl not available, eGFR used",
		"daily": "daily dose", "day": "day", "duration": "used for", "days": "days", "prn": "as needed",
		"weight": "weight", "creatinine": "creatinine", "met": "criteria met"},
}

func detail(res risk.Result, f risk.Flag, lang string) string {
	l := labels[lang]
	var b strings.Builder
	fmt.Fprintf(&b, "**%s:** %s\n\n", l["why"], f.Explanation.In(lang))
	fmt.Fprintf(&b, "**%s:** %s\n\n", l["action"], f.Action.In(lang))
	if basis := basisText(res, f.Basis, l); basis != "" {
		fmt.Fprintf(&b, "**%s:** %s\n\n", l["basis"], basis)
	}
	fmt.Fprintf(&b, "**%s:** %s\n\n", l["mechanism"], f.Mechanism)
	fmt.Fprintf(&b, "**%s:**\n", l["sources"])
	for _, s := range f.Sources {
		line := s.Citation
		if s.Section != "" {
			line += " — " + s.Section
		}
		fmt.Fprintf(&b, "- %s. %s\n", line, s.URL)
	}
	fmt.Fprintf(&b, "\n%s: %s (%s) · %s %s · %s %s", l["rule"], f.RuleID, f.Category, l["severity"], l[string(f.Severity)], l["kb"], res.KBVersion)
	return b.String()
}

func basisText(res risk.Result, b risk.Basis, l map[string]string) string {
	var parts []string
	if b.Age != nil {
		parts = append(parts, fmt.Sprintf("%s %d %s", l["age"], *b.Age, l["years"]))
	}
	if k := b.Kidney; k != nil {
		s := fmt.Sprintf("%s %s ml/min", strings.ToUpper(k.Measure), strconv.FormatFloat(k.Value, 'f', -1, 64))
		if k.Measure == "egfr" {
			s = "eGFR " + strconv.FormatFloat(k.Value, 'f', -1, 64) + " ml/min/1.73 m²"
			if res.Kidney.EGFRSource == "ckd_epi_2021" {
				s += " (CKD-EPI 2021)"
			}
		}
		if k.Substituted {
			s += " — " + l["substituted"]
		}
		parts = append(parts, s)
	}
	if len(b.Conditions) > 0 {
		parts = append(parts, l["conditions"]+" "+strings.Join(b.Conditions, ", "))
	}
	if b.Falls {
		parts = append(parts, l["falls"])
	}
	if b.ACBTotal > 0 {
		parts = append(parts, fmt.Sprintf("%s %d", l["acb"], b.ACBTotal))
	}
	if b.Count > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", b.Count, l["count"]))
	}
	if d := b.Dose; d != nil {
		read := d.Daily.String()
		if d.Read != "" {
			read = d.Read
		}
		parts = append(parts, fmt.Sprintf("%s %s > %s %s/%s", l["daily"], read, strconv.FormatFloat(d.Above, 'f', -1, 64), d.Daily.Unit, l["day"]))
	}
	if b.DurationDays != nil {
		parts = append(parts, fmt.Sprintf("%s %s %s", l["duration"], strconv.FormatFloat(*b.DurationDays, 'f', -1, 64), l["days"]))
	}
	if b.AsNeeded {
		parts = append(parts, l["prn"])
	}
	if b.WeightKg != nil {
		parts = append(parts, fmt.Sprintf("%s %s kg", l["weight"], strconv.FormatFloat(*b.WeightKg, 'f', -1, 64)))
	}
	if b.CreatinineUmolL != nil {
		parts = append(parts, fmt.Sprintf("%s %s µmol/l", l["creatinine"], strconv.FormatFloat(*b.CreatinineUmolL, 'f', -1, 64)))
	}
	if len(b.Met) > 0 {
		parts = append(parts, l["met"]+": "+strings.Join(b.Met, "; "))
	}
	return strings.Join(parts, "; ")
}

// notesCard summarises what could not be assessed.
func notesCard(res risk.Result, skipped []fhirin.Skipped, newIdx map[int]bool, all bool, lang string) (Card, bool) {
	var lines []string
	var keys []string
	for _, n := range res.Notes {
		if n.Reason == risk.NoteMedicationsNotProvided {
			continue // its own card
		}
		relevant := all || n.Reason == risk.NoteUnrecognisedDrug || n.Reason == risk.NoteNameATCMismatch ||
			n.Reason == risk.NoteDoseNotUnderstood
		var names []string
		for _, i := range n.Drugs {
			if newIdx[i] {
				relevant = true
			}
			names = append(names, res.Drugs[i].DisplayName(lang))
		}
		if !relevant {
			continue
		}
		line := "- " + n.Message.In(lang)
		if len(names) > 0 {
			line += " (" + strings.Join(dedupe(names), ", ") + ")"
		}
		lines = append(lines, line)
		keys = append(keys, string(n.Reason))
	}
	if len(skipped) > 0 {
		head := map[string]string{
			"fi": "Osaa FHIR-resursseista ei voitu käyttää:",
			"en": "Some FHIR resources could not be used:",
		}[lang]
		lines = append(lines, "- "+head)
		for _, s := range skipped {
			lines = append(lines, "  - "+s.Ref+": "+s.Reason)
			keys = append(keys, s.Ref)
		}
	}
	if len(lines) == 0 {
		return Card{}, false
	}
	summary := map[string]string{
		"fi": "Osaa lääkeriskeistä ei voitu arvioida puuttuvien tietojen vuoksi",
		"en": "Some medication risks could not be assessed: data missing",
	}[lang]
	return Card{
		UUID:      stableUUID(append([]string{"notes"}, keys...)...),
		Summary:   summary,
		Detail:    strings.Join(lines, "\n") + "\n\n" + labels[lang]["kb"] + " " + res.KBVersion,
		Indicator: IndicatorInfo,
		Source:    Source{Label: "Medication risk rules " + res.KBVersion},
	}, true
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// truncate shortens s to at most n characters, ending with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
