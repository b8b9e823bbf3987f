package risk

import (
	"math"
	"strings"
)

// creatinineUmolPerMg converts creatinine mg/dl to µmol/l (molar mass
// 113.12 g/mol).
const creatinineUmolPerMg = 88.42

// Kidney is the kidney function the assessment used, and how it was found.
type Kidney struct {
	// EGFR in ml/min/1.73 m², as reported or computed.
	EGFR *float64 `json:"egfr,omitempty"`
	// EGFRSource is "reported" or "ckd_epi_2021"; empty when unknown.
	EGFRSource string `json:"egfr_source,omitempty"`
	// CrCl is the Cockcroft–Gault creatinine clearance in ml/min, when
	// creatinine, age, sex and weight are all known.
	CrCl *float64 `json:"crcl,omitempty"`
	// CreatinineUmolL is the creatinine used, converted to µmol/l.
	CreatinineUmolL *float64 `json:"creatinine_umol_l,omitempty"`
	// Missing explains, when EGFR is nil, what was missing.
	Missing string `json:"missing,omitempty"`
}

// EGFRCKDEPI2021 computes eGFR (ml/min/1.73 m²) with the race-free CKD-EPI
// 2021 creatinine equation (Inker et al., N Engl J Med 2021). creatinine is
// in µmol/l; female selects the sex coefficients. Valid for adults.
func EGFRCKDEPI2021(creatinineUmolL float64, age int, female bool) float64 {
	scr := creatinineUmolL / creatinineUmolPerMg // mg/dl
	kappa, alpha, sexFactor := 0.9, -0.302, 1.0
	if female {
		kappa, alpha, sexFactor = 0.7, -0.241, 1.012
	}
	r := scr / kappa
	return 142 * math.Pow(math.Min(r, 1), alpha) * math.Pow(math.Max(r, 1), -1.200) *
		math.Pow(0.9938, float64(age)) * sexFactor
}

// CrClCockcroftGault computes creatinine clearance (ml/min) with the
// Cockcroft–Gault equation from creatinine in µmol/l, age in years and
// actual body weight in kg.
func CrClCockcroftGault(creatinineUmolL float64, age int, weightKg float64, female bool) float64 {
	scr := creatinineUmolL / creatinineUmolPerMg
	c := float64(140-age) * weightKg / (72 * scr)
	if female {
		c *= 0.85
	}
	return c
}

// kidneyOf derives the kidney function from the patient facts. Computed
// values are rounded to whole ml/min, as laboratories report them, so that
// band boundaries behave predictably.
func kidneyOf(p Patient) Kidney {
	var k Kidney
	sex := strings.ToLower(p.Sex)
	var scr float64
	haveScr := false
	if p.Creatinine != nil {
		if v, ok := p.Creatinine.umolL(); ok {
			scr, haveScr = v, true
			k.CreatinineUmolL = &v
		}
	}
	if p.EGFR != nil {
		v := *p.EGFR
		k.EGFR, k.EGFRSource = &v, "reported"
	} else if haveScr {
		switch {
		case p.Age == nil:
			k.Missing = "age (needed to compute eGFR from creatinine)"
		case *p.Age < 18:
			k.Missing = "an adult age (CKD-EPI 2021 is for adults)"
		case sex == "":
			k.Missing = "sex (needed to compute eGFR from creatinine)"
		default:
			v := math.Round(EGFRCKDEPI2021(scr, *p.Age, sex == "female"))
			k.EGFR, k.EGFRSource = &v, "ckd_epi_2021"
		}
	} else {
		k.Missing = "eGFR or serum creatinine"
	}
	if haveScr && p.Age != nil && *p.Age >= 18 && *p.Age < 140 && sex != "" && p.WeightKg != nil {
		v := math.Round(CrClCockcroftGault(scr, *p.Age, *p.WeightKg, sex == "female"))
		k.CrCl = &v
	}
	return k
}
