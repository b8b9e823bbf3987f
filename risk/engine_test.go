package risk

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goldenfile "github.com/soteai/gateway/assist/golden"

	"github.com/soteai/gateway/assist"
)

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// benchInput is the benchmark case: an 80-year-old woman with eGFR 35,
// heart failure, type 2 diabetes, dementia and falls, on 15 medicines
// named as a Finnish medication list would name them.
func benchInput() Input {
	return Input{
		Drugs: []DrugInput{
			{Name: "Marevan 3 mg tabl", DoseText: "1 tabl illalla"}, {Name: "Burana 400 mg", DoseText: "1 tabl tarvittaessa, enintään 3 tabl/vrk"},
			{Name: "Cipralex 10 mg", DoseText: "1 x 1"}, {Name: "Metforem 500 mg", DoseText: "2 tabl x 2"},
			{Name: "Cardace 5 mg", DoseText: "1 tabl aamulla"}, {Name: "Spiresis 25 mg", DoseText: "1 x 1"},
			{Name: "Furesis 40 mg", DoseText: "1 tabl. 2 ggr/dag"}, {Name: "Emconcor 5 mg", DoseText: "1 tablet once daily"},
			{Name: "Zocor 40 mg", DoseText: "40 mg iltaisin"}, {Name: "Imovane 7,5 mg", DoseText: "1 tabl tarv. yöksi"},
			{Name: "Lyrica 75 mg", DoseText: "1 kaps aamuin illoin"}, {Name: "Panacod 500/30 mg", DoseText: "2 tabl x 3"},
			{Name: "Losec 20 mg", DoseText: "20 mg x 1"}, {Name: "Primaspan 100 mg", DoseText: "1 x 1"},
			{ATC: "G04BD04", Name: "Ditropan 5 mg", New: true, Ref: "MedicationRequest/draft-1", DoseText: "5 mg kolmesti päivässä"},
		},
		Patient: Patient{
			Age: ptr(80), Sex: "female", WeightKg: ptr(62.0), EGFR: ptr(35.0),
			Conditions: []string{"I50.9", "E11.9", "F03", "N18.3"}, Falls: ptr(true),
		},
	}
}

func TestAssessGolden(t *testing.T) {
	res, err := Assess(testKB(t), benchInput())
	if err != nil {
		t.Fatal(err)
	}
	res.KBVersion = "test" // the golden file should not churn on every KB edit
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "assess_80y_egfr35.golden.json", append(b, '\n'))
}

func TestAssessDeterministic(t *testing.T) {
	kb := testKB(t)
	in := benchInput()
	a, _ := Assess(kb, in)
	b, _ := Assess(kb, in)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("same input gave different output")
	}
	// A shuffled list gives the same set of flags (order follows severity,
	// category and rule id; drug indexes follow the input).
	r := rand.New(rand.NewPCG(1, 2))
	shuffled := in
	shuffled.Drugs = slices.Clone(in.Drugs)
	r.Shuffle(len(shuffled.Drugs), func(i, j int) { shuffled.Drugs[i], shuffled.Drugs[j] = shuffled.Drugs[j], shuffled.Drugs[i] })
	c, _ := Assess(kb, shuffled)
	if strings.Join(flagKeys(a), ",") != strings.Join(flagKeys(c), ",") {
		t.Errorf("shuffled list: %v vs %v", flagKeys(a), flagKeys(c))
	}
	for i := 1; i < len(a.Flags); i++ {
		p, q := a.Flags[i-1], a.Flags[i]
		if p.Severity.rank() > q.Severity.rank() {
			t.Errorf("flags not ordered by severity: %s before %s", p.Key, q.Key)
		}
	}
}

func flagKeys(res Result) []string {
	var out []string
	for _, f := range res.Flags {
		out = append(out, f.Key)
	}
	return out
}

func TestResolution(t *testing.T) {
	kb := testKB(t)
	for _, tc := range []struct {
		in     DrugInput
		atc    string
		method MatchMethod
	}{
		{DrugInput{ATC: "b01aa03"}, "B01AA03", MatchATC},
		{DrugInput{Name: "Marevan 3 mg tabletti"}, "B01AA03", MatchBrand},
		{DrugInput{Name: "varfariini"}, "B01AA03", MatchNameFI},
		{DrugInput{Name: "Warfarin"}, "B01AA03", MatchNameEN},
		{DrugInput{Name: "Seloken ZOC 47,5 mg depottabl."}, "C07AB02", MatchBrand},
		{DrugInput{Name: "MÄKIKUISMA"}, "N06AX25", MatchNameFI},
		{DrugInput{Name: "makikuisma"}, "N06AX25", MatchNameFI},
		{DrugInput{Name: "St John's wort"}, "N06AX25", MatchNameEN},
		{DrugInput{Name: "Burana®"}, "M01AE01", MatchBrand},
		{DrugInput{Name: "aspirin"}, "B01AC06", MatchBrand},
		{DrugInput{Name: "ASA"}, "B01AC06", MatchAlias},
		{DrugInput{Name: "xyzzy 5 mg"}, "", MatchNone},
		{DrugInput{ATC: "A11CC05"}, "A11CC05", MatchATC}, // colecalciferol: valid, not in catalogue
		{DrugInput{ATC: "A12AX"}, "A12AX", MatchATC},     // calcium + vitamin D: a level-4 product code
	} {
		t.Run(tc.in.Name+tc.in.ATC, func(t *testing.T) {
			res, err := Assess(kb, Input{Drugs: []DrugInput{tc.in}})
			if err != nil {
				t.Fatal(err)
			}
			d := res.Drugs[0]
			if d.ATC != tc.atc || d.Method != tc.method {
				t.Errorf("resolved to %q by %q, want %q by %q", d.ATC, d.Method, tc.atc, tc.method)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	kb := testKB(t)
	for _, tc := range []struct {
		name    string
		in      Input
		reason  NoteReason
		rules   []string
		noFlags []string
	}{
		{"no kidney function", Input{Drugs: drugs("A10BA02"), Patient: Patient{Age: ptr(70)}},
			NoteMissingKidneyFunction, []string{"REN-MET-01", "REN-MET-02", "REN-MET-03"}, []string{"REN-MET-01"}},
		{"creatinine without sex", Input{Drugs: drugs("A10BA02"), Patient: Patient{Age: ptr(70), Creatinine: &Creatinine{150, "umol/L"}}},
			NoteMissingKidneyFunction, []string{"REN-MET-01"}, nil},
		{"no age", Input{Drugs: drugs("N05BA01")}, NoteMissingAge, []string{"PIM-BZD-01"}, nil},
		{"no conditions", Input{Drugs: drugs("M01AE01"), Patient: Patient{Age: ptr(50), EGFR: ptr(90.0)}},
			NoteMissingConditions, []string{"DD-HF-01", "DD-PU-01"}, nil},
		{"no falls history", Input{Drugs: drugs("N05CF01"), Patient: Patient{Age: ptr(80)}},
			NoteMissingFallsHistory, []string{"FALL-01"}, nil},
		{"unrecognised", Input{Drugs: []DrugInput{{Name: "kummallinen rohdos"}}}, NoteUnrecognisedDrug, nil, nil},
		{"not in catalogue", Input{Drugs: drugs("A11CC05")}, NoteNotInCatalogue, nil, nil},
		{"name and code disagree", Input{Drugs: []DrugInput{{ATC: "B01AA03", Name: "Burana"}}}, NoteNameATCMismatch, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Assess(kb, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var n *Note
			for i := range res.Notes {
				if res.Notes[i].Reason == tc.reason {
					n = &res.Notes[i]
				}
			}
			if n == nil {
				t.Fatalf("no %s note; notes: %+v", tc.reason, res.Notes)
			}
			if n.Message.EN == "" || n.Message.FI == "" {
				t.Error("note without message")
			}
			for _, r := range tc.rules {
				if !slices.Contains(n.Rules, r) {
					t.Errorf("note rules %v lack %s", n.Rules, r)
				}
			}
			for _, r := range tc.noFlags {
				if slices.Contains(flagIDs(res), r) {
					t.Errorf("%s fired without the data it needs", r)
				}
			}
		})
	}
}

// A rule whose other condition is known to be false needs no note: an
// opioid-free 50-year-old with unknown kidney function gets no note for
// the 65+ rules, and a known-false age suppresses the falls note.
func TestNoNoteWhenAnotherConditionFails(t *testing.T) {
	res, err := Assess(testKB(t), Input{Drugs: drugs("N05CF01"), Patient: Patient{Age: ptr(50)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notes {
		if n.Reason == NoteMissingFallsHistory {
			t.Errorf("falls note for a 50-year-old: %+v", n)
		}
	}
}

func TestCrClPreferredForDOACs(t *testing.T) {
	kb := testKB(t)
	// eGFR (CKD-EPI) is 49 but Cockcroft–Gault CrCl for a 45 kg woman is
	// 29: the dabigatran contraindication uses CrCl.
	in := Input{Drugs: drugs("B01AE07"), Patient: Patient{Age: ptr(80), Sex: "female", WeightKg: ptr(45.0), Creatinine: &Creatinine{100, "umol/L"}, Conditions: []string{"I48.9"}, Falls: ptr(false)}}
	res, err := Assess(kb, in)
	if err != nil {
		t.Fatal(err)
	}
	var f *Flag
	for i := range res.Flags {
		if res.Flags[i].RuleID == "REN-DAB-01" {
			f = &res.Flags[i]
		}
	}
	if f == nil || f.Basis.Kidney == nil || f.Basis.Kidney.Measure != "crcl" || f.Basis.Kidney.Value != 28 {
		t.Fatalf("REN-DAB-01 = %+v; kidney %+v", f, res.Kidney)
	}
	// Without weight, eGFR is used and marked as a substitute.
	in.Patient.WeightKg = nil
	in.Patient.Creatinine = &Creatinine{160, "umol/L"}
	res, _ = Assess(kb, in)
	for _, f := range res.Flags {
		if f.RuleID == "REN-DAB-01" && (f.Basis.Kidney.Measure != "egfr" || !f.Basis.Kidney.Substituted) {
			t.Errorf("basis = %+v", f.Basis.Kidney)
		}
	}
}

func TestValidate(t *testing.T) {
	kb := testKB(t)
	for _, tc := range []struct {
		name string
		in   Input
		want string
	}{
		{"no drugs", Input{}, "drugs: at least one medicine is required"},
		{"bad ATC", Input{Drugs: drugs("XYZ")}, "drugs[0].atc: not a well-formed ATC code"},
		{"group code", Input{Drugs: drugs("B01A")}, "is a group code"},
		{"empty drug", Input{Drugs: []DrugInput{{}}}, "drugs[0]: give an atc code or a name"},
		{"age", Input{Drugs: drugs("B01AA03"), Patient: Patient{Age: ptr(-1)}}, "patient.age"},
		{"sex", Input{Drugs: drugs("B01AA03"), Patient: Patient{Sex: "x"}}, "patient.sex"},
		{"eGFR", Input{Drugs: drugs("B01AA03"), Patient: Patient{EGFR: ptr(900.0)}}, "patient.egfr"},
		{"creatinine unit", Input{Drugs: drugs("B01AA03"), Patient: Patient{Creatinine: &Creatinine{1, "mmol/L"}}}, "patient.creatinine.unit"},
		{"creatinine value", Input{Drugs: drugs("B01AA03"), Patient: Patient{Creatinine: &Creatinine{0.001, "umol/L"}}}, "patient.creatinine.value"},
		{"ICD-10", Input{Drugs: drugs("B01AA03"), Patient: Patient{Conditions: []string{"heart failure"}}}, "patient.conditions[0]"},
		{"too many drugs", Input{Drugs: make([]DrugInput, MaxDrugs+1)}, "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Assess(kb, tc.in)
			if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(assist.MessageOf(err), tc.want) {
				t.Fatalf("err = %v (kind %s), want invalid with %q", err, assist.KindOf(err), tc.want)
			}
		})
	}
}

// BenchmarkAssess15Drugs assesses the 15-drug list of an 80-year-old
// with eGFR 35, with the free-text doses (target < 0.5 ms) and, as the
// baseline in the same run, with names only: the difference is the cost
// of reading the dosing texts.
func BenchmarkAssess15Drugs(b *testing.B) {
	kb := testKB(b)
	withDoses := benchInput()
	namesOnly := benchInput()
	for i := range namesOnly.Drugs {
		namesOnly.Drugs[i].DoseText = ""
	}
	for _, bc := range []struct {
		name string
		in   Input
	}{{"free-text-doses", withDoses}, {"names-only", namesOnly}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Assess(kb, bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
