package risk

import (
	"strings"
	"testing"
)

func TestResolveDose(t *testing.T) {
	yes, no := true, false
	type want struct {
		low, high float64
		unit      string
		asNeeded  *bool
		problem   string // substring; "" means resolved
		from      string
	}
	tests := []struct {
		name string
		in   DrugInput
		date string
		want want
	}{
		// Finnish free text
		{"fi g x 2", DrugInput{Name: "metformiini", DoseText: "1 g x 2"}, "", want{2000, 2000, "mg", &no, "", "text"}},
		{"fi kahdesti päivässä", DrugInput{Name: "metformiini", DoseText: "500 mg kahdesti päivässä"}, "", want{1000, 1000, "mg", &no, "", "text"}},
		{"fi 1x3 tablets with strength in name", DrugInput{Name: "Metforem 500 mg", DoseText: "1x3"}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"fi 1 tabl 2 kertaa vuorokaudessa", DrugInput{Name: "Lyrica 75 mg", DoseText: "1 tabl. 2 kertaa vuorokaudessa"}, "", want{150, 150, "mg", &no, "", "text"}},
		{"fi decimal comma", DrugInput{Name: "Eliquis", DoseText: "2,5 mg x 2"}, "", want{5, 5, "mg", &no, "", "text"}},
		{"fi daily total", DrugInput{Name: "metformiini", DoseText: "1000 mg/vrk"}, "", want{1000, 1000, "mg", &no, "", "text"}},
		{"fi mg vuorokaudessa", DrugInput{Name: "x", DoseText: "1500 mg vuorokaudessa"}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"fi slots 1+0+1", DrugInput{Name: "Metformin 850 mg", DoseText: "1+0+1"}, "", want{1700, 1700, "mg", &no, "", "text"}},
		{"fi slots 1-0-1 tabl", DrugInput{Name: "Neurontin 300 mg", DoseText: "1-1-1 tabl"}, "", want{900, 900, "mg", &no, "", "text"}},
		{"fi aamuin illoin", DrugInput{Name: "Lyrica 150 mg", DoseText: "1 kaps aamuin illoin"}, "", want{300, 300, "mg", &no, "", "text"}},
		{"fi aamulla ja illalla different amounts", DrugInput{Name: "Neurontin 300 mg", DoseText: "2 tabl aamulla ja 1 tabl illalla"}, "", want{900, 900, "mg", &no, "", "text"}},
		{"fi range 1-2 tabl x 3", DrugInput{Name: "Panadol 500 mg", DoseText: "1-2 tabl x 3"}, "", want{1500, 3000, "mg", &no, "", "text"}},
		{"fi tarvittaessa with max", DrugInput{Name: "Panadol 1 g", DoseText: "1 tabl tarvittaessa, enintään 3 tabl/vrk"}, "", want{3000, 3000, "mg", &yes, "", "text"}},
		{"fi tarvittaessa without max", DrugInput{Name: "Panadol 1 g", DoseText: "1 tabl tarvittaessa"}, "", want{0, 0, "", &yes, "as-needed dose without", "text"}},
		{"fi tarv. x 3", DrugInput{Name: "Burana 400 mg", DoseText: "1 tabl tarv. 1-3 x/vrk"}, "", want{400, 1200, "mg", &yes, "", "text"}},
		{"fi every 8 hours", DrugInput{Name: "x", DoseText: "500 mg 8 tunnin välein"}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"fi kerran viikossa", DrugInput{Name: "Trexan 2,5 mg", DoseText: "6 tabl kerran viikossa"}, "", want{2.143, 2.143, "mg", &no, "", "text"}},
		{"fi iltaisin", DrugInput{Name: "Imovane 7,5 mg", DoseText: "1 tabl iltaisin"}, "", want{7.5, 7.5, "mg", &no, "", "text"}},
		{"fi micrograms", DrugInput{Name: "Digoxin", DoseText: "125 mikrog x 1"}, "", want{0.125, 0.125, "mg", &no, "", "text"}},
		{"fi half tablet", DrugInput{Name: "Emconcor 5 mg", DoseText: "1/2 tabl x 2"}, "", want{5, 5, "mg", &no, "", "text"}},
		{"fi x vrk without slash", DrugInput{Name: "x", DoseText: "500 mg 1-2 x vrk"}, "", want{500, 1000, "mg", &no, "", "text"}},
		{"fi kertaa päivässä range", DrugInput{Name: "Panadol 500 mg", DoseText: "1-2 tabl 1-3 kertaa päivässä"}, "", want{500, 3000, "mg", &no, "", "text"}},
		{"fi every other day", DrugInput{Name: "Furesis 40 mg", DoseText: "1 tabl joka toinen päivä"}, "", want{20, 20, "mg", &no, "", "text"}},
		{"fi number word", DrugInput{Name: "Lyrica 75 mg", DoseText: "kaksi kapselia kahdesti päivässä"}, "", want{300, 300, "mg", &no, "", "text"}},
		{"fi weekly x", DrugInput{Name: "Trexan 2,5 mg", DoseText: "4 tabl x 1 vko"}, "", want{1.429, 1.429, "mg", &no, "", "text"}},
		{"fi patch not a mass", DrugInput{Name: "Norspan 10 mikrog/h", DoseText: "1 laastari viikossa"}, "", want{0, 0, "", &no, "no dose amount", "text"}},
		{"fi ml not a mass", DrugInput{Name: "Lactulose", DoseText: "15 ml x 2"}, "", want{0, 0, "", &no, "no dose amount", "text"}},
		// Swedish
		{"sv varannan dag", DrugInput{Name: "x", DoseText: "5 mg varannan dag"}, "", want{2.5, 2.5, "mg", &no, "", "text"}},
		{"sv vid behov högst per dygn", DrugInput{Name: "Alvedon 500 mg", DoseText: "1 tablett vid behov högst 3 gånger per dygn"}, "", want{1500, 1500, "mg", &yes, "", "text"}},
		{"sv ggr/dag", DrugInput{Name: "Metformin 500 mg", DoseText: "1 tabl. 3 ggr/dag"}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"sv två gånger dagligen", DrugInput{Name: "x", DoseText: "500 mg två gånger dagligen"}, "", want{1000, 1000, "mg", &no, "", "text"}},
		{"sv vid behov", DrugInput{Name: "Alvedon 500 mg", DoseText: "1-2 tabletter vid behov, högst 8 tabletter/dygn"}, "", want{4000, 4000, "mg", &yes, "", "text"}},
		{"sv var 8:e timme", DrugInput{Name: "x", DoseText: "1 g var 8:e timme"}, "", want{3000, 3000, "mg", &no, "", "text"}},
		{"sv morgon och kväll", DrugInput{Name: "Lyrica 75 mg", DoseText: "1 kapsel morgon och kväll"}, "", want{150, 150, "mg", &no, "", "text"}},
		// English
		{"en q.d.", DrugInput{Name: "x", DoseText: "10 mg q.d."}, "", want{10, 10, "mg", &no, "", "text"}},
		{"en t.d.s.", DrugInput{Name: "x", DoseText: "500 mg t.d.s."}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"en hs", DrugInput{Name: "x", DoseText: "7.5 mg hs"}, "", want{7.5, 7.5, "mg", &no, "", "text"}},
		{"count times strength is not a frequency", DrugInput{Name: "x", DoseText: "2 x 500 mg"}, "", want{0, 0, "", &no, "no frequency", "text"}},
		{"sv morgon middag kväll", DrugInput{Name: "Metformin 500 mg", DoseText: "1 tablett morgon, middag och kväll"}, "", want{1500, 1500, "mg", &no, "", "text"}},
		{"en two tablets at bedtime", DrugInput{Name: "Panadol 500 mg", DoseText: "two tablets at bedtime"}, "", want{1000, 1000, "mg", &no, "", "text"}},
		{"en every other day", DrugInput{Name: "x", DoseText: "10 mg every other day"}, "", want{5, 5, "mg", &no, "", "text"}},
		{"en twice daily", DrugInput{Name: "x", DoseText: "500 mg twice daily"}, "", want{1000, 1000, "mg", &no, "", "text"}},
		{"en bid", DrugInput{Name: "x", DoseText: "5 mg bid"}, "", want{10, 10, "mg", &no, "", "text"}},
		{"en b.i.d.", DrugInput{Name: "x", DoseText: "5 mg b.i.d."}, "", want{10, 10, "mg", &no, "", "text"}},
		{"en three times a day", DrugInput{Name: "x", DoseText: "300 mg three times a day"}, "", want{900, 900, "mg", &no, "", "text"}},
		{"en once daily", DrugInput{Name: "x", DoseText: "20 mg once daily"}, "", want{20, 20, "mg", &no, "", "text"}},
		{"en daily", DrugInput{Name: "x", DoseText: "20 mg daily"}, "", want{20, 20, "mg", &no, "", "text"}},
		{"en q6h prn", DrugInput{Name: "x", DoseText: "1 g q6h prn"}, "", want{4000, 4000, "mg", &yes, "", "text"}},
		{"en every 12 hours", DrugInput{Name: "x", DoseText: "100 mg every 12 hours"}, "", want{200, 200, "mg", &no, "", "text"}},
		{"en as needed up to", DrugInput{Name: "x", DoseText: "as needed, up to 3 g/day"}, "", want{3000, 3000, "mg", &yes, "", "text"}},
		{"en tablets with strength field", DrugInput{Name: "apixaban", DoseText: "1 tablet twice daily", Strength: &Amount{Value: 5, Unit: "mg"}}, "", want{10, 10, "mg", &no, "", "text"}},
		{"en units", DrugInput{Name: "insulin", DoseText: "20 IU once daily"}, "", want{20, 20, "IU", &no, "", "text"}},
		// Structured
		{"structured mg", DrugInput{Name: "x", Dose: &Amount{Value: 500, Unit: "mg"}, Frequency: ptr(2.0)}, "", want{1000, 1000, "mg", &no, "", "structured"}},
		{"structured g range freq", DrugInput{Name: "x", Dose: &Amount{Value: 0.5, High: ptr(1.0), Unit: "g"}, Frequency: ptr(1.0), FrequencyMax: ptr(3.0)}, "", want{500, 3000, "mg", &no, "", "structured"}},
		{"structured tablets", DrugInput{Name: "Metforem 500 mg", Dose: &Amount{Value: 2, Unit: "tabl"}, Frequency: ptr(2.0)}, "", want{2000, 2000, "mg", &no, "", "structured"}},
		{"structured prn", DrugInput{Name: "x", Dose: &Amount{Value: 1, Unit: "g"}, Frequency: ptr(3.0), AsNeeded: &yes}, "", want{3000, 3000, "mg", &yes, "", "structured"}},
		{"structured frequency from text", DrugInput{Name: "x", Dose: &Amount{Value: 1, Unit: "g"}, DoseText: "kahdesti päivässä"}, "", want{2000, 2000, "mg", &no, "", "structured"}},
		// Failures: reported, never guessed
		{"no frequency", DrugInput{Name: "x", DoseText: "500 mg"}, "", want{0, 0, "", &no, "no frequency", "text"}},
		{"gibberish", DrugInput{Name: "x", DoseText: "ohjeen mukaan"}, "", want{0, 0, "", &no, "no dose amount", "text"}},
		{"tablets without strength", DrugInput{Name: "Metforem", DoseText: "1 x 3"}, "", want{0, 0, "", &no, "strength is unknown", "text"}},
		{"combination strength", DrugInput{Name: "Panacod 500/30 mg", DoseText: "2 tabl x 3"}, "", want{0, 0, "", &no, "combination", "text"}},
		{"ambiguous amounts", DrugInput{Name: "x", DoseText: "500 mg tai 1000 mg x 2"}, "", want{0, 0, "", &no, "", "text"}},
		{"structured without frequency", DrugInput{Name: "x", Dose: &Amount{Value: 500, Unit: "mg"}}, "", want{0, 0, "", &no, "no frequency", "structured"}},
		{"as needed only", DrugInput{Name: "x", DoseText: "vid behov"}, "", want{0, 0, "", &yes, "no dose amount", "text"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			r := resolveDose(&in, tc.date)
			if r == nil {
				t.Fatal("nil reading")
			}
			if r.From != tc.want.from {
				t.Errorf("from = %q, want %q", r.From, tc.want.from)
			}
			if (r.AsNeeded == nil) != (tc.want.asNeeded == nil) || r.AsNeeded != nil && *r.AsNeeded != *tc.want.asNeeded {
				t.Errorf("as_needed = %v, want %v", bderef(r.AsNeeded), bderef(tc.want.asNeeded))
			}
			if tc.want.problem != "" || tc.want.unit == "" {
				if r.Daily != nil {
					t.Fatalf("daily = %+v (%s), want unresolved (%q)", *r.Daily, r.Read, tc.want.problem)
				}
				if !strings.Contains(r.Problem, tc.want.problem) || r.Problem == "" {
					t.Errorf("problem = %q, want it to contain %q", r.Problem, tc.want.problem)
				}
				return
			}
			if r.Daily == nil {
				t.Fatalf("unresolved: %s", r.Problem)
			}
			if r.Daily.Low != tc.want.low || r.Daily.High != tc.want.high || r.Daily.Unit != tc.want.unit {
				t.Errorf("daily = %+v (%s), want %v–%v %s", *r.Daily, r.Read, tc.want.low, tc.want.high, tc.want.unit)
			}
			if !strings.HasSuffix(r.Read, r.Daily.String()) {
				t.Errorf("read %q does not end with the daily dose", r.Read)
			}
		})
	}
}

func bderef(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestResolveDoseDuration(t *testing.T) {
	tests := []struct {
		name string
		in   DrugInput
		date string
		want *float64
	}{
		{"duration weeks", DrugInput{Name: "x", Duration: &Duration{Value: 6, Unit: "wk"}}, "", ptr(42.0)},
		{"duration months", DrugInput{Name: "x", Duration: &Duration{Value: 3, Unit: "mo"}}, "", ptr(90.0)},
		{"start and date", DrugInput{Name: "x", Start: "2026-01-01"}, "2026-03-01", ptr(59.0)},
		{"start without date", DrugInput{Name: "x", Start: "2026-01-01"}, "", nil},
		{"start after date", DrugInput{Name: "x", Start: "2026-04-01"}, "2026-03-01", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			r := resolveDose(&in, tc.date)
			switch {
			case r == nil:
				t.Fatal("nil reading")
			case (r.DurationDays == nil) != (tc.want == nil):
				t.Fatalf("duration = %v, want %v", r.DurationDays, tc.want)
			case tc.want != nil && *r.DurationDays != *tc.want:
				t.Fatalf("duration = %v, want %v", *r.DurationDays, *tc.want)
			}
		})
	}
	if r := resolveDose(&DrugInput{Name: "x"}, ""); r != nil {
		t.Errorf("no dosing information gave %+v", r)
	}
}

func TestValidateDose(t *testing.T) {
	tests := []struct {
		name string
		d    DrugInput
		date string
		msg  string
	}{
		{"negative dose", DrugInput{Name: "x", Dose: &Amount{Value: -1, Unit: "mg"}}, "", "drugs[0].dose"},
		{"bad unit", DrugInput{Name: "x", Dose: &Amount{Value: 1, Unit: "spoon"}}, "", "drugs[0].dose.unit"},
		{"high below value", DrugInput{Name: "x", Dose: &Amount{Value: 2, High: ptr(1.0), Unit: "mg"}}, "", "drugs[0].dose"},
		{"zero frequency", DrugInput{Name: "x", Frequency: ptr(0.0)}, "", "drugs[0].frequency"},
		{"frequency_max below", DrugInput{Name: "x", Frequency: ptr(3.0), FrequencyMax: ptr(2.0)}, "", "frequency_max"},
		{"bad start", DrugInput{Name: "x", Start: "1.1.2026"}, "", "drugs[0].start"},
		{"bad duration unit", DrugInput{Name: "x", Duration: &Duration{Value: 1, Unit: "fortnight"}}, "", "drugs[0].duration"},
		{"long dose text", DrugInput{Name: "x", DoseText: strings.Repeat("a", 201)}, "", "dose_text"},
		{"bad date", DrugInput{Name: "x"}, "2026-13-01", "date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Drugs: []DrugInput{tc.d}, Date: tc.date}
			err := in.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.msg)
			}
		})
	}
}
