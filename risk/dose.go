package risk

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DoseReading reports how a medicine's dosing was read: the resolved
// daily dose, regular or as-needed use and the length of use. A dose that
// cannot be resolved carries a Problem; it is never guessed.
type DoseReading struct {
	// From is "structured" (dose, frequency fields, FHIR Dosage) or "text"
	// (dose_text).
	From string `json:"from"`
	// Daily is the resolved daily dose; nil when it could not be resolved.
	Daily *DailyDose `json:"daily,omitempty"`
	// AsNeeded is true for as-needed use, false for regular use, absent
	// when nothing was said about dosing.
	AsNeeded *bool `json:"as_needed,omitempty"`
	// DurationDays is the length of use in days, when known.
	DurationDays *float64 `json:"duration_days,omitempty"`
	// Read shows the arithmetic, e.g. "1 tabl (500 mg) × 3/day = 1500 mg/day".
	Read string `json:"read,omitempty"`
	// Problem says why the daily dose is unknown.
	Problem string `json:"problem,omitempty"`
}

// DailyDose is a daily dose or range: Unit is "mg" for every mass unit
// (g and µg are converted) or "IU".
type DailyDose struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	Unit string  `json:"unit"`
}

func (d DailyDose) String() string {
	if d.Low == d.High {
		return fmtNum(d.High) + " " + d.Unit + "/day"
	}
	return fmtNum(d.Low) + "–" + fmtNum(d.High) + " " + d.Unit + "/day"
}

// fmtNum prints up to three decimals without trailing zeros.
func fmtNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// foldWord lower-cases and folds a unit word as the tokenizer does.
func foldWord(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if r == '.' {
			continue
		}
		b.WriteRune(foldLetter(r))
	}
	return b.String()
}

// hasDosing reports whether the input says anything about dosing.
func (d *DrugInput) hasDosing() bool {
	return d.Dose != nil || d.Frequency != nil || d.AsNeeded != nil || strings.TrimSpace(d.DoseText) != "" ||
		d.Start != "" || d.Duration != nil
}

// resolveDose reads a drug's dosing. date is Input.Date ("" when not
// given). It returns nil when the input says nothing about dosing.
func resolveDose(d *DrugInput, date string) *DoseReading {
	if !d.hasDosing() {
		return nil
	}
	r := &DoseReading{From: "structured"}
	var td textDose
	haveText := strings.TrimSpace(d.DoseText) != ""
	if haveText {
		td = parseDoseText(d.DoseText)
	}
	// Regular or as needed: the field wins; any dosing information
	// without an as-needed marker is regular use.
	switch {
	case d.AsNeeded != nil:
		v := *d.AsNeeded
		r.AsNeeded = &v
	case haveText || d.Dose != nil || d.Frequency != nil:
		v := haveText && td.asNeeded
		r.AsNeeded = &v
	}
	r.DurationDays = durationOf(d, date)

	var amount, amountHi, freq, freqHi float64
	var unit unitInfo
	var unitWord string
	var maxDaily float64
	var maxUnit unitInfo
	switch {
	case d.Dose != nil:
		amount, amountHi = d.Dose.Value, d.Dose.Value
		if d.Dose.High != nil {
			amountHi = *d.Dose.High
		}
		unitWord = foldWord(d.Dose.Unit)
		unit = doseUnits[unitWord]
		switch {
		case d.Frequency != nil:
			freq, freqHi = *d.Frequency, *d.Frequency
			if d.FrequencyMax != nil {
				freqHi = *d.FrequencyMax
			}
		case haveText && td.freq > 0:
			freq, freqHi = td.freq, td.freqHi
		}
		if haveText {
			maxDaily, maxUnit = td.maxDaily, td.maxUnit
		}
	case haveText:
		r.From = "text"
		if td.problem != "" && td.maxDaily == 0 {
			r.Problem = "dosing text not understood: " + td.problem
			if td.asNeeded && td.amount > 0 {
				r.Problem = td.problem
			}
			return r
		}
		amount, amountHi, unit, unitWord, freq, freqHi = td.amount, td.amountHi, td.unit, td.unitWord, td.freq, td.freqHi
		maxDaily, maxUnit = td.maxDaily, td.maxUnit
		if d.Frequency != nil {
			freq, freqHi = *d.Frequency, *d.Frequency
			if d.FrequencyMax != nil {
				freqHi = *d.FrequencyMax
			}
		}
	default:
		r.Problem = "no dose given"
		return r
	}

	// Convert to mg (or keep IU).
	toDaily := func(u unitInfo, uw string) (perUnit float64, out string, desc string, ok bool) {
		switch u.kind {
		case unitMass:
			return u.mg, "mg", uw, true
		case unitIU:
			return 1, "IU", "IU", true
		case unitForm:
			s, sdesc := strengthOf(d)
			if s == 0 {
				r.Problem = "the dose is in tablets or capsules and the product strength is unknown" + sdesc
				return 0, "", "", false
			}
			if uw == "" {
				uw = "tabl"
			}
			return s, "mg", uw + " (" + fmtNum(s) + " mg)", true
		}
		r.Problem = "dose unit not understood"
		return 0, "", "", false
	}
	var daily *DailyDose
	var read string
	if amount > 0 && freq > 0 {
		per, out, desc, ok := toDaily(unit, unitWord)
		if !ok {
			return r
		}
		daily = &DailyDose{Low: amount * per * freq, High: amountHi * per * freqHi, Unit: out}
		a := fmtNum(amount)
		if amountHi != amount {
			a += "–" + fmtNum(amountHi)
		}
		f := fmtNum(freq)
		if freqHi != freq {
			f += "–" + fmtNum(freqHi)
		}
		if freq < 1 && freqHi < 1 && math.Abs(freq*7-math.Round(freq*7)) < 1e-9 {
			f = fmtNum(freq*7) + "/week"
		} else {
			f += "/day"
		}
		read = a + " " + desc + " × " + f
	}
	if maxDaily > 0 {
		per, out, desc, ok := toDaily(maxUnit, "")
		if !ok {
			return r
		}
		m := maxDaily * per
		switch {
		case daily == nil:
			daily = &DailyDose{Low: m, High: m, Unit: out}
			read = "at most " + fmtNum(maxDaily) + " " + desc + "/day"
		case daily.Unit == out:
			if m < daily.High {
				daily.High = m
			}
			daily.Low = math.Min(daily.Low, daily.High)
			read += ", at most " + fmtNum(m) + " " + out + "/day"
		}
	}
	if daily == nil {
		switch {
		case amount > 0 && r.AsNeeded != nil && *r.AsNeeded:
			r.Problem = "as-needed dose without a number of doses per day or a daily maximum"
		case amount > 0:
			r.Problem = "no frequency (doses per day) given"
		default:
			r.Problem = "no dose given"
		}
		return r
	}
	daily.Low, daily.High = round3(daily.Low), round3(daily.High)
	r.Daily = daily
	r.Read = read + " = " + daily.String()
	return r
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// strengthOf returns the strength in mg per tablet or capsule: the
// strength field, else the single mass amount in the name ("Metformin
// 500 mg"). Combination strengths ("500/30 mg") and liquids ("mg/ml") are
// not used: a per-substance amount cannot be told from them.
func strengthOf(d *DrugInput) (mg float64, why string) {
	if d.Strength != nil {
		u := doseUnits[foldWord(d.Strength.Unit)]
		if u.kind == unitMass && d.Strength.High == nil {
			return d.Strength.Value * u.mg, ""
		}
		return 0, " (strength must be one mass, e.g. 500 mg)"
	}
	toks := tokenizeDose(d.Name)
	found := 0.0
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokNum || i+1 >= len(toks) || toks[i+1].kind != tokWord {
			continue
		}
		u, ok := doseUnits[toks[i+1].word]
		if !ok || u.kind != unitMass {
			continue
		}
		if i > 0 && isSym(toks, i-1, '/') || isSym(toks, i+2, '/') || found != 0 {
			return 0, " (the name has a combination or concentration strength)"
		}
		found = toks[i].num * u.mg
	}
	if found == 0 {
		return 0, " (give strength, or name the product with its strength)"
	}
	return found, ""
}

// durationOf returns the length of use in days: Duration, else the days
// from Start to date.
func durationOf(d *DrugInput, date string) *float64 {
	if d.Duration != nil {
		if v, ok := d.Duration.days(); ok {
			return &v
		}
	}
	if d.Start == "" || date == "" {
		return nil
	}
	s, err1 := time.Parse("2006-01-02", d.Start)
	t, err2 := time.Parse("2006-01-02", date)
	if err1 != nil || err2 != nil || t.Before(s) {
		return nil
	}
	v := math.Round(t.Sub(s).Hours() / 24)
	return &v
}
