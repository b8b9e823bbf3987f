package clinic

import (
	"fmt"
	"sort"
	"strings"

	"github.com/soteai/gateway/assist/clinic/redflags"
)

// RuleBaseline is the urgency the red-flag rules alone suggest: the
// findings' level, else few_days (a conversation without a red flag is
// booked, not sent to self-care, without a model or a nurse).
func RuleBaseline(r redflags.Result) redflags.Urgency {
	if r.Urgency != "" {
		return r.Urgency
	}
	return redflags.FewDays
}

// FormatTriage renders the measures as a plain-text table.
func FormatTriage(m TriageMetrics) string {
	var b strings.Builder
	row := func(name string, p Proportion) {
		fmt.Fprintf(&b, "  %-28s %4d/%-4d %6.1f%%  [%5.1f%%, %5.1f%%]\n", name, p.K, p.N, 100*p.Rate, 100*p.Low, 100*p.High)
	}
	row("exact agreement", m.Exact)
	row("safe (≤1 level too low)", m.Safe)
	row("under-triage", m.UnderTriage)
	row("emergencies missed", m.EmergencyMissed)
	row("over-triage", m.OverTriage)
	row("denied flag raised", m.DeniedFlagRaised)
	flags := make([]string, 0, len(m.FlagRecall))
	for f := range m.FlagRecall {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	for _, f := range flags {
		row("recall "+f, m.FlagRecall[f])
	}
	return b.String()
}
