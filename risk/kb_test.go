package risk

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/soteai/gateway/assist"
)

// testKB loads the embedded knowledge base once per test binary.
func testKB(t testing.TB) *KB {
	t.Helper()
	kb, err := DefaultKB()
	if err != nil {
		t.Fatalf("DefaultKB: %v", err)
	}
	return kb
}

func TestDefaultKB(t *testing.T) {
	kb := testKB(t)
	if !regexp.MustCompile(`^\d+\.\d+\.\d+\+[0-9a-f]{12}$`).MatchString(kb.Version()) {
		t.Errorf("Version() = %q", kb.Version())
	}
	info := kb.Info()
	if info.Rules < 60 || info.Drugs < 150 {
		t.Errorf("Info = %+v, want dozens of rules and a real catalogue", info)
	}
	for _, c := range Categories {
		if info.RulesByCategory[c] == 0 {
			t.Errorf("no rule in category %s", c)
		}
	}
	for _, r := range kb.Rules() {
		if len(r.Sources) == 0 {
			t.Errorf("rule %s has no source", r.ID)
		}
	}
	// Stable across loads.
	if again := testKB(t); again.Version() != kb.Version() {
		t.Errorf("version changed between loads: %s vs %s", kb.Version(), again.Version())
	}
	d, ok := kb.Drug("B01AA03")
	if !ok || d.NameFI != "varfariini" || d.ACB != 1 || !strings.Contains(strings.Join(d.Classes, ","), "oral_anticoagulants") {
		t.Errorf("warfarin = %+v, %v", d, ok)
	}
	q, _ := kb.Drug("N05AH04")
	if strings.Join(q.FRIDClasses, ",") != "antipsychotics" {
		t.Errorf("quetiapine FRID classes = %v", q.FRIDClasses)
	}
}

func TestValidATC(t *testing.T) {
	for code, want := range map[string]bool{
		"B": true, "B01": true, "B01A": true, "B01AA": true, "B01AA03": true,
		"": false, "X01": false, "B1": false, "B01A0": false, "B01AA3": false, "b01aa03": false, "B01AA033": false, "BO1AA03": false,
	} {
		if got := ValidATC(code); got != want {
			t.Errorf("ValidATC(%q) = %v, want %v", code, got, want)
		}
	}
	if ValidSubstanceATC("B01AA") || !ValidSubstanceATC("B01AA03") {
		t.Error("ValidSubstanceATC")
	}
}

func TestNormalizeICD10(t *testing.T) {
	for in, want := range map[string]string{
		"I50.9": "I509", "i50": "I50", "G30.1+F00.1*": "G301,F001", "E11.9 ": "E119", "xyz": "", "I5": "", "Z95.5": "Z955",
	} {
		if got := strings.Join(NormalizeICD10(in), ","); got != want {
			t.Errorf("NormalizeICD10(%q) = %q, want %q", in, got, want)
		}
	}
}

// kbFS copies the embedded knowledge base so a test can break it.
func kbFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(EmbeddedKBFS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(EmbeddedKBFS(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadKBValidation(t *testing.T) {
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"malformed ATC in catalogue", "drugs.yaml", "atc: B01AA03,", "atc: B01AA3,", `atc "B01AA3" is not a well-formed level-5 ATC code`},
		{"duplicate drug", "drugs.yaml", "atc: B01AB04,", "atc: B01AA03,", `drug "B01AA03": duplicate ATC code`},
		{"name used twice", "drugs.yaml", "brands: [Fragmin]", "brands: [Marevan]", `name "Marevan" is already used by B01AA03`},
		{"ACB out of range", "drugs.yaml", "brands: [Marevan], acb: 1", "brands: [Marevan], acb: 4", "acb 4 is outside 0–3"},
		{"malformed class member", "classes.yaml", "members: [B01AA, B01AB, B01AE, B01AF]", "members: [B01AA, B1]", `class "anticoagulants": "B1" is not a well-formed ATC code`},
		{"rule without source", "rules/10_interactions.yaml", "  sources: [{id: beers2023, section: \"Table 5, drug–drug interactions\"}, {id: stopp_v3, section: \"Section C, antithrombotics\"}]\n", "", `rule "DDI-BLEED-01": no source`},
		{"unknown source", "rules/10_interactions.yaml", "{id: beers2023, section: \"Table 5, drug–drug interactions\"}", "{id: beers2099}", `source "beers2099" is not defined`},
		{"unknown class", "rules/10_interactions.yaml", "    - classes: [nsaids]\n  mechanism: Additive haemostatic", "    - classes: [nsaidz]\n  mechanism: Additive haemostatic", `class "nsaidz" is not defined in classes.yaml`},
		{"duplicate rule id", "rules/10_interactions.yaml", "id: DDI-BLEED-02", "id: DDI-BLEED-01", `rule "DDI-BLEED-01": duplicate rule id`},
		{"bad severity", "rules/10_interactions.yaml", "severity: low\n  title: {en: \"Serotonergic", "severity: minor\n  title: {en: \"Serotonergic", `severity "minor" must be high, moderate or low`},
		{"unknown field", "rules/50_duplication.yaml", "duplicate: atc4", "duplicate: atc4\n  colour: red", `unknown field "colour"`},
		{"supersedes unknown", "rules/50_duplication.yaml", "supersedes: [DUP-ATC4-01]\n  use: {regular: true}\n  mechanism: Same mechanism (COX", "supersedes: [DUP-NOPE-01]\n  use: {regular: true}\n  mechanism: Same mechanism (COX", `supersedes unknown rule "DUP-NOPE-01"`},
		{"bad ICD-10", "rules/30_drug_disease.yaml", "conditions_any: [G20]}", "conditions_any: [Parkinson]}", `"Parkinson" is not a single well-formed ICD-10 code`},
		{"two matchers", "rules/40_older_adults.yaml", "acb_total_min: 3\n  mechanism: Cumulative muscarinic blockade across", "acb_total_min: 3\n  duplicate: atc4\n  mechanism: Cumulative muscarinic blockade across", "exactly one of drugs, count, acb_total_min or duplicate"},
		{"bad version", "manifest.yaml", "version: 2.0.0", "version: one", `version "one" is not a semantic version`},
		{"source without https", "manifest.yaml", "url: https://doi.org/10.1111/jgs.18372", "url: doi.org/10.1111/jgs.18372", "url must be an https:// address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := kbFS(t)
			f := m[tc.file]
			if !strings.Contains(string(f.Data), tc.old) {
				t.Fatalf("test setup: %s does not contain %q", tc.file, tc.old)
			}
			f.Data = []byte(strings.Replace(string(f.Data), tc.old, tc.new, 1))
			_, err := LoadKB(m)
			if err == nil {
				t.Fatal("LoadKB accepted a broken knowledge base")
			}
			if assist.KindOf(err) != assist.KindInternal {
				t.Errorf("kind = %s", assist.KindOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestLoadKBVersionTracksContent(t *testing.T) {
	m := kbFS(t)
	a, err := LoadKB(m)
	if err != nil {
		t.Fatal(err)
	}
	f := m["rules/10_interactions.yaml"]
	f.Data = append(f.Data, []byte("\n# a comment changes the hash\n")...)
	b, err := LoadKB(m)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == b.Version() || !strings.HasPrefix(b.Version(), "2.0.0+") {
		t.Errorf("versions %s and %s", a.Version(), b.Version())
	}
}
