package clinic

import (
	"math"
	"slices"

	"github.com/soteai/gateway/assist/clinic/redflags"
)

// TriageOutcome is one evaluated conversation: the urgency a nurse
// assigned and the one suggested, the red flags expected, raised, and
// expected absent (denied by the patient).
type TriageOutcome struct {
	ID          string
	Want, Got   redflags.Urgency
	WantFlags   []string
	GotFlags    []string
	AbsentFlags []string
}

// Proportion is K of N with its Wilson score 95% interval.
type Proportion struct {
	K    int     `json:"k"`
	N    int     `json:"n"`
	Rate float64 `json:"rate"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Wilson returns k of n with the Wilson score interval at 95% confidence,
// which stays inside [0, 1] and is informative at 0 of n (the upper bound
// of an under-triage rate never observed).
func Wilson(k, n int) Proportion {
	p := Proportion{K: k, N: n}
	if n == 0 {
		return p
	}
	const z = 1.959963984540054
	nf := float64(n)
	ph := float64(k) / nf
	den := 1 + z*z/nf
	centre := (ph + z*z/(2*nf)) / den
	half := z * math.Sqrt(ph*(1-ph)/nf+z*z/(4*nf*nf)) / den
	p.Rate, p.Low, p.High = ph, math.Max(0, centre-half), math.Min(1, centre+half)
	return p
}

// TriageMetrics are the digital clinic's triage measures.
type TriageMetrics struct {
	N int `json:"n"`
	// Exact: the suggested level equals the nurse's.
	Exact Proportion `json:"exact"`
	// Safe: never more than one level less urgent than the nurse's
	// (Omaolo's published "safe" measure).
	Safe Proportion `json:"safe"`
	// UnderTriage: less urgent than the nurse's, by any amount.
	UnderTriage Proportion `json:"under_triage"`
	// EmergencyMissed: of the nurse's emergencies, those suggested as
	// anything less (the headline; target zero).
	EmergencyMissed Proportion `json:"emergency_missed"`
	// OverTriage: more urgent than the nurse's.
	OverTriage Proportion `json:"over_triage"`
	// FlagRecall per red flag: raised where expected.
	FlagRecall map[string]Proportion `json:"flag_recall"`
	// DeniedFlagRaised: flags raised although the patient denied them.
	DeniedFlagRaised Proportion `json:"denied_flag_raised"`
}

// ScoreTriage computes the measures over outcomes.
func ScoreTriage(outs []TriageOutcome) TriageMetrics {
	var exact, safe, under, over, emer, emerMiss, absentN, absentRaised int
	recall := map[string][2]int{}
	for _, o := range outs {
		w, g := o.Want.Rank(), o.Got.Rank()
		if g < 0 {
			g = len(redflags.Levels) // no suggestion: least urgent
		}
		switch {
		case g == w:
			exact++
		case g > w:
			under++
		default:
			over++
		}
		if g-w <= 1 {
			safe++
		}
		if o.Want == redflags.Emergency {
			emer++
			if o.Got != redflags.Emergency {
				emerMiss++
			}
		}
		for _, f := range o.WantFlags {
			r := recall[f]
			r[1]++
			if slices.Contains(o.GotFlags, f) {
				r[0]++
			}
			recall[f] = r
		}
		for _, f := range o.AbsentFlags {
			absentN++
			if slices.Contains(o.GotFlags, f) {
				absentRaised++
			}
		}
	}
	n := len(outs)
	m := TriageMetrics{N: n, Exact: Wilson(exact, n), Safe: Wilson(safe, n), UnderTriage: Wilson(under, n),
		OverTriage: Wilson(over, n), EmergencyMissed: Wilson(emerMiss, emer),
		DeniedFlagRaised: Wilson(absentRaised, absentN), FlagRecall: map[string]Proportion{}}
	for f, r := range recall {
		m.FlagRecall[f] = Wilson(r[0], r[1])
	}
	return m
}
