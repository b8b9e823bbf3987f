package fhirin

import (
	"math"
	"strings"

	"github.com/soteai/gateway/risk"
)

// periodDays converts a FHIR UnitsOfTime code to days.
var periodDays = map[string]float64{"s": 1.0 / 86400, "min": 1.0 / 1440, "h": 1.0 / 24, "d": 1, "wk": 7, "mo": 30, "a": 365}

// timingCodes are the HL7 GTSAbbreviation timing codes with a fixed
// number of administrations per day.
var timingCodes = map[string]float64{
	"QD": 1, "AM": 1, "PM": 1, "BID": 2, "TID": 3, "QID": 4, "QOD": 0.5, "WK": 1.0 / 7,
	"Q1H": 24, "Q2H": 12, "Q3H": 8, "Q4H": 6, "Q6H": 4, "Q8H": 3, "Q12H": 2,
}

// doseUnit maps a FHIR dose quantity's unit (UCUM code, or the
// orderable-drug-form code, or the text) to a risk dose unit; "" when it
// is not a unit the engine reads.
func doseUnit(q *quantity) string {
	for _, u := range []string{q.Code, q.Unit} {
		k := strings.ToLower(strings.Trim(strings.TrimSpace(u), "{}[]"))
		switch k {
		case "mg", "g", "ug", "mcg", "µg":
			return k
		case "tab", "tbl", "tabl", "tablet", "tablets", "tabletti", "tablett":
			return "tabl"
		case "cap", "caps", "capsule", "capsules", "kapseli", "kapsel":
			return "caps"
		case "iu", "i'u", "u":
			return "IU"
		}
	}
	return ""
}

// dosageInto fills the dose fields of d from FHIR Dosage elements: the
// structured doseAndRate and timing.repeat when every element has them,
// else the elements' text (read by the engine, never guessed). Several
// elements with the same sequence are taken together (e.g. 2 tablets in
// the morning and 1 in the evening).
//
// It returns a reason when the elements say nothing it can use (the
// medicine is then assessed without its dose, and the caller reports it).
func dosageInto(d *risk.DrugInput, ds []dosage) string {
	if len(ds) == 0 {
		return ""
	}
	var texts []string
	asNeeded := false
	totalLo, totalHi, unit, structured := 0.0, 0.0, "", true
	for _, x := range ds {
		if t := strings.TrimSpace(x.Text); t != "" {
			texts = append(texts, t)
		}
		if x.AsNeededBoolean != nil && *x.AsNeededBoolean || x.AsNeededCodeableConcept != nil {
			asNeeded = true
		}
		if x.Sequence != nil && ds[0].Sequence != nil && *x.Sequence != *ds[0].Sequence {
			structured = false // sequential regimens: only the text can say
		}
		lo, hi, u, ok := dosageAmount(&x)
		f, fhi, fok := dosageFrequency(&x)
		if !ok || !fok || unit != "" && u != unit {
			structured = false
			continue
		}
		unit = u
		totalLo += lo * f
		totalHi += hi * fhi
		if x.Timing != nil && x.Timing.Repeat != nil && x.Timing.Repeat.BoundsDuration != nil {
			if b := x.Timing.Repeat.BoundsDuration; b.Value != nil {
				if days, ok := periodDays[b.Code]; ok && b.Code != "s" && b.Code != "min" && b.Code != "h" {
					d.Duration = &risk.Duration{Value: *b.Value * days, Unit: "d"}
				}
			}
		}
	}
	ok := structured && unit != "" && totalLo > 0
	switch {
	case asNeeded:
		t := true
		d.AsNeeded = &t
	case ok:
		f := false
		d.AsNeeded = &f
	}
	if ok {
		one := 1.0
		d.Dose = &risk.Amount{Value: round6(totalLo), Unit: unit}
		if totalHi != totalLo {
			hi := round6(totalHi)
			d.Dose.High = &hi
		}
		d.Frequency = &one // the daily total
		return ""
	}
	if len(texts) > 0 {
		t := strings.Join(texts, "; ")
		if len(t) > 200 {
			t = t[:200]
		}
		d.DoseText = t
		return ""
	}
	if len(ds) == 1 {
		// An amount without timing: the engine reports the missing frequency.
		if lo, hi, u, ok := dosageAmount(&ds[0]); ok {
			d.Dose = &risk.Amount{Value: lo, Unit: u}
			if hi != lo {
				d.Dose.High = &hi
			}
			return ""
		}
	}
	return "dosage not readable (dose unit or timing not understood, and no text); assessed without the dose"
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func dosageAmount(x *dosage) (lo, hi float64, unit string, ok bool) {
	for _, dr := range x.DoseAndRate {
		switch {
		case dr.DoseQuantity != nil && dr.DoseQuantity.Value != nil:
			u := doseUnit(dr.DoseQuantity)
			v := *dr.DoseQuantity.Value
			return v, v, u, u != "" && v > 0 && finite(v)
		case dr.DoseRange != nil && dr.DoseRange.Low != nil && dr.DoseRange.High != nil &&
			dr.DoseRange.Low.Value != nil && dr.DoseRange.High.Value != nil:
			u := doseUnit(dr.DoseRange.High)
			l, h := *dr.DoseRange.Low.Value, *dr.DoseRange.High.Value
			return l, h, u, u != "" && l > 0 && h >= l && finite(h)
		}
	}
	return 0, 0, "", false
}

// dosageFrequency returns administrations per day from timing.repeat
// (frequency per period, or the number of when/timeOfDay slots) or a
// timing code.
func dosageFrequency(x *dosage) (f, fhi float64, ok bool) {
	if x.Timing == nil {
		return 0, 0, false
	}
	if r := x.Timing.Repeat; r != nil {
		if r.Frequency != nil && r.Period != nil && *r.Period > 0 {
			days, known := periodDays[r.PeriodUnit]
			if !known {
				return 0, 0, false
			}
			f = *r.Frequency / (*r.Period * days)
			fhi = f
			if r.FrequencyMax != nil && *r.FrequencyMax >= *r.Frequency {
				fhi = *r.FrequencyMax / (*r.Period * days)
			}
			return f, fhi, f > 0 && fhi <= 48
		}
		if n := len(r.When) + len(r.TimeOfDay); n > 0 {
			k := float64(n)
			if r.Frequency != nil && *r.Frequency > 0 {
				k *= *r.Frequency
			}
			return k, k, true
		}
	}
	if x.Timing.Code != nil {
		for _, c := range x.Timing.Code.Coding {
			if v, ok := timingCodes[strings.ToUpper(c.Code)]; ok {
				return v, v, true
			}
		}
	}
	return 0, 0, false
}

// startOf returns the date part of the first usable start time.
func startOf(m *medicationUse) string {
	for _, s := range []string{m.EffectiveDateTime, startOfPeriod(m.EffectivePeriod), m.AuthoredOn} {
		if t, ok := parseFHIRTime(s); ok && len(s) >= 10 {
			return t.Format("2006-01-02")
		}
	}
	return ""
}

func startOfPeriod(p *period) string {
	if p == nil {
		return ""
	}
	return p.Start
}

// strengthOf returns a single-ingredient Medication's strength per unit
// (e.g. 500 mg per tablet), or nil.
func strengthOf(m *medication) *risk.Amount {
	if len(m.Ingredient) != 1 || m.Ingredient[0].Strength == nil {
		return nil
	}
	r := m.Ingredient[0].Strength
	if r.Numerator == nil || r.Numerator.Value == nil || *r.Numerator.Value <= 0 {
		return nil
	}
	if r.Denominator != nil && r.Denominator.Value != nil && *r.Denominator.Value != 1 {
		return nil
	}
	if r.Denominator != nil {
		switch doseUnit(r.Denominator) {
		case "tabl", "caps":
		default:
			return nil // per ml and other concentrations do not give a per-tablet strength
		}
	}
	u := doseUnit(r.Numerator)
	switch u {
	case "mg", "g", "ug", "mcg":
		return &risk.Amount{Value: *r.Numerator.Value, Unit: u}
	}
	return nil
}
