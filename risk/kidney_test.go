package risk

import (
	"math"
	"testing"
)

func TestEGFRCKDEPI2021(t *testing.T) {
	for _, tc := range []struct {
		name   string
		umolL  float64
		age    int
		female bool
		want   float64 // hand-computed from the published equation
	}{
		{"male 50, 1.0 mg/dl", 88.42, 50, false, 91.7},
		{"female 80, 100 µmol/l", 100, 80, true, 49.0},
		{"female 60, 0.6 mg/dl (below kappa)", 0.6 * 88.42, 60, true, 102.7},
		{"male 75, 200 µmol/l", 200, 75, false, 29.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EGFRCKDEPI2021(tc.umolL, tc.age, tc.female)
			if math.Abs(got-tc.want) > 0.6 {
				t.Errorf("eGFR = %.1f, want %.1f", got, tc.want)
			}
		})
	}
}

func TestCrClCockcroftGault(t *testing.T) {
	if got := CrClCockcroftGault(100, 80, 60, true); math.Abs(got-37.6) > 0.3 {
		t.Errorf("CrCl = %.1f, want 37.6", got)
	}
}

func TestKidneyOf(t *testing.T) {
	for _, tc := range []struct {
		name            string
		p               Patient
		egfr, crcl      float64 // 0 = absent
		source, missing string
	}{
		{"reported eGFR wins", Patient{EGFR: ptr(35.0), Creatinine: &Creatinine{100, "umol/L"}, Age: ptr(80), Sex: "female"}, 35, 0, "reported", ""},
		{"creatinine in µmol/l", Patient{Creatinine: &Creatinine{100, "µmol/l"}, Age: ptr(80), Sex: "female"}, 49, 0, "ckd_epi_2021", ""},
		{"creatinine in mg/dl", Patient{Creatinine: &Creatinine{1.131, "mg/dL"}, Age: ptr(80), Sex: "female"}, 49, 0, "ckd_epi_2021", ""},
		{"with weight gives CrCl", Patient{Creatinine: &Creatinine{100, "umol/L"}, Age: ptr(80), Sex: "female", WeightKg: ptr(60.0)}, 49, 38, "ckd_epi_2021", ""},
		{"no sex", Patient{Creatinine: &Creatinine{100, "umol/L"}, Age: ptr(80)}, 0, 0, "", "sex (needed to compute eGFR from creatinine)"},
		{"no age", Patient{Creatinine: &Creatinine{100, "umol/L"}, Sex: "male"}, 0, 0, "", "age (needed to compute eGFR from creatinine)"},
		{"child", Patient{Creatinine: &Creatinine{40, "umol/L"}, Age: ptr(10), Sex: "male"}, 0, 0, "", "an adult age (CKD-EPI 2021 is for adults)"},
		{"nothing", Patient{Age: ptr(80)}, 0, 0, "", "eGFR or serum creatinine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kidneyOf(tc.p)
			if (k.EGFR == nil) != (tc.egfr == 0) || k.EGFR != nil && *k.EGFR != tc.egfr {
				t.Errorf("EGFR = %v, want %v", deref(k.EGFR), tc.egfr)
			}
			if (k.CrCl == nil) != (tc.crcl == 0) || k.CrCl != nil && *k.CrCl != tc.crcl {
				t.Errorf("CrCl = %v, want %v", deref(k.CrCl), tc.crcl)
			}
			if k.EGFRSource != tc.source || k.Missing != tc.missing {
				t.Errorf("source %q missing %q, want %q %q", k.EGFRSource, k.Missing, tc.source, tc.missing)
			}
		})
	}
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
