package cdshooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	goldenfile "github.com/soteai/gateway/assist/golden"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/risk"
)

var now = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, filepath.Join("testdata", name), v)
}

func loadKB(t *testing.T) *risk.KB {
	t.Helper()
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	return kb
}

// stableResponse replaces the KB version so goldens do not churn with
// every knowledge-base edit.
func stableResponse(resp Response, version string) Response {
	resp.Cards = append([]Card(nil), resp.Cards...)
	for i := range resp.Cards {
		resp.Cards[i].Detail = strings.ReplaceAll(resp.Cards[i].Detail, version, "KB-VERSION")
		resp.Cards[i].Source.Label = strings.ReplaceAll(resp.Cards[i].Source.Label, version, "KB-VERSION")
	}
	return resp
}

func TestDiscovery(t *testing.T) {
	d := Discovery()
	if len(d.Services) != 2 || d.Services[0].ID != ServiceID || d.Services[0].Hook != HookOrderSign || d.Services[1].Hook != HookOrderSelect {
		t.Fatalf("services = %+v", d.Services)
	}
	golden(t, "discovery.golden.json", d)
}

func TestOrderSign(t *testing.T) {
	kb := loadKB(t)
	body, err := os.ReadFile("testdata/order_sign_request.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest(body, ServiceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fi", "en"} {
		t.Run(lang, func(t *testing.T) {
			resp, res, err := Evaluate(kb, req, now, CardOptions{Lang: lang, NewUUID: counter()})
			if err != nil {
				t.Fatal(err)
			}
			if res.KBVersion != kb.Version() {
				t.Errorf("result KB version %q", res.KBVersion)
			}
			var rules []string
			for _, c := range resp.Cards {
				if c.Source.Topic != nil {
					rules = append(rules, c.Source.Topic.Code)
				}
				checkCard(t, c)
			}
			got := strings.Join(rules, ",")
			// Flags involving the draft ibuprofen or tramadol; warfarin +
			// citalopram (no draft involved) is not repeated at signing.
			for _, want := range []string{"DDI-BLEED-01", "DDI-AKI-01", "DD-HF-01", "DDI-SERO-03", "REN-NSAID-02", "PIM-NSAID-01", "DDI-BLEED-05"} {
				if !strings.Contains(got, want) {
					t.Errorf("no card for %s: %s", want, got)
				}
			}
			if strings.Contains(got, "DDI-BLEED-03") {
				t.Errorf("card for a flag without a draft order: %s", got)
			}
			last := resp.Cards[len(resp.Cards)-1]
			if last.Indicator != IndicatorInfo || last.Source.Topic != nil || !strings.Contains(last.Detail, "tramadol") {
				t.Errorf("last card should list what was not assessable: %+v", last)
			}
			golden(t, "order_sign_response_"+lang+".golden.json", stableResponse(resp, kb.Version()))

			// Deterministic given the uuid source.
			again, _, _ := Evaluate(kb, req, now, CardOptions{Lang: lang, NewUUID: counter()})
			a, _ := json.Marshal(resp)
			b, _ := json.Marshal(again)
			if !bytes.Equal(a, b) {
				t.Error("second evaluation differs")
			}
		})
	}
}

func checkCard(t *testing.T, c Card) {
	t.Helper()
	if n := utf8.RuneCountInString(c.Summary); n > MaxSummary || n == 0 {
		t.Errorf("summary of %d characters: %q", n, c.Summary)
	}
	switch c.Indicator {
	case IndicatorInfo, IndicatorWarning, IndicatorCritical:
	default:
		t.Errorf("indicator %q", c.Indicator)
	}
	if c.Source.Label == "" || len(c.UUID) != 36 {
		t.Errorf("card source/uuid: %+v", c)
	}
	if len(c.Suggestions) > 0 && c.SelectionBehavior != "at-most-one" {
		t.Errorf("suggestions without selectionBehavior")
	}
	for _, s := range c.Suggestions {
		for _, a := range s.Actions {
			if a.Type != "delete" || !strings.HasPrefix(a.ResourceID, "MedicationRequest/draft-") {
				t.Errorf("action %+v", a)
			}
		}
	}
}

func TestOrderSelectSelections(t *testing.T) {
	kb := loadKB(t)
	body, _ := os.ReadFile("testdata/order_sign_request.json")
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	raw["hook"] = HookOrderSelect
	raw["context"].(map[string]any)["selections"] = []string{"MedicationRequest/draft-tramadol"}
	body, _ = json.Marshal(raw)
	req, err := ParseRequest(body, SelectServiceID)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := Evaluate(kb, req, now, CardOptions{Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.Cards {
		if c.Source.Topic != nil && (c.Source.Topic.Code == "DDI-BLEED-01" || c.Source.Topic.Code == "DD-HF-01") {
			t.Errorf("order-select showed an ibuprofen card although only tramadol is selected: %s", c.Summary)
		}
	}
	if !strings.Contains(mustJSON(resp), "DDI-SERO-03") {
		t.Error("no card for the selected tramadol")
	}
}

func TestAllFlagsSummariesFit(t *testing.T) {
	kb := loadKB(t)
	in := risk.Input{
		Drugs: []risk.DrugInput{
			{Name: "Marevan"}, {Name: "Burana"}, {Name: "Cipralex"}, {Name: "Metforem"}, {Name: "Cardace"},
			{Name: "Spiresis"}, {Name: "Furesis"}, {Name: "Zocor"}, {Name: "Imovane"}, {Name: "Lyrica"},
			{Name: "Panacod"}, {Name: "Primaspan"}, {Name: "Ditropan"}, {Name: "Seroquel"}, {Name: "Klacid"},
		},
		Patient: risk.Patient{Age: ptr(80), EGFR: ptr(25.0), Conditions: []string{"I50.9", "F03"}, Falls: ptr(true)},
	}
	res, err := risk.Assess(kb, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fi", "en"} {
		resp := Cards(res, nil, CardOptions{Lang: lang, AllFlags: true})
		if len(resp.Cards) < len(res.Flags) {
			t.Fatalf("%d cards for %d flags", len(resp.Cards), len(res.Flags))
		}
		for _, c := range resp.Cards {
			checkCard(t, c)
		}
	}
	if Indicator(risk.SeverityHigh) != "critical" || Indicator(risk.SeverityModerate) != "warning" || Indicator(risk.SeverityLow) != "info" {
		t.Error("indicator mapping")
	}
}

func TestParseRequestErrors(t *testing.T) {
	base := `{"hook":"order-sign","hookInstance":"h1","context":{"userId":"Practitioner/1","patientId":"p1","draftOrders":{"resourceType":"Bundle","entry":[]}}}`
	for _, tc := range []struct {
		name, service, body string
		kind                assist.Kind
		want                string
	}{
		{"unknown service", "nope", base, assist.KindNotFound, "no such CDS service"},
		{"not JSON", ServiceID, `{"hook":`, assist.KindInvalid, "not a valid CDS Hooks request"},
		{"wrong hook", SelectServiceID, base, assist.KindInvalid, "answers the order-select hook"},
		{"no hookInstance", ServiceID, strings.Replace(base, `"hookInstance":"h1",`, "", 1), assist.KindInvalid, "hookInstance is required"},
		{"no patient", ServiceID, strings.Replace(base, `"patientId":"p1",`, "", 1), assist.KindInvalid, "context.patientId is required"},
		{"no draftOrders", ServiceID, strings.Replace(base, `,"draftOrders":{"resourceType":"Bundle","entry":[]}`, "", 1), assist.KindInvalid, "context.draftOrders is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tc.body), tc.service)
			if assist.KindOf(err) != tc.kind || !strings.Contains(assist.MessageOf(err), tc.want) {
				t.Fatalf("err = %v (kind %s), want %s %q", err, assist.KindOf(err), tc.kind, tc.want)
			}
		})
	}
	// A request whose resources are malformed fails cleanly at Evaluate.
	bad := strings.Replace(base, `"entry":[]`, `"entry":[{"resource":{"resourceType":"MedicationRequest","status":7}}]`, 1)
	req, err := ParseRequest([]byte(bad), ServiceID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Evaluate(loadKB(t), req, now, CardOptions{}); assist.KindOf(err) != assist.KindInvalid {
		t.Errorf("Evaluate with a malformed draft order: %v", err)
	}
	// No medication among the draft orders: no cards, no error.
	req, _ = ParseRequest([]byte(base), ServiceID)
	resp, _, err := Evaluate(loadKB(t), req, now, CardOptions{})
	if err != nil || len(resp.Cards) != 0 || mustJSON(resp) != `{"cards":[]}` {
		t.Errorf("empty draft orders: %s, %v", mustJSON(resp), err)
	}
}

func ptr[T any](v T) *T { return &v }

// counter returns a deterministic uuid source for goldens.
func counter() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

// TestCardUUIDs: card and suggestion uuids are unique within a response
// and differ between responses; the deterministic id is kept in the
// extension and is the same in every response for the same flag.
func TestCardUUIDs(t *testing.T) {
	kb := loadKB(t)
	body, _ := os.ReadFile("testdata/order_sign_request.json")
	req, err := ParseRequest(body, ServiceID)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := Evaluate(kb, req, now, CardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := Evaluate(kb, req, now, CardOptions{})
	seen := map[string]bool{}
	for _, c := range a.Cards {
		ids := []string{c.UUID}
		for _, s := range c.Suggestions {
			ids = append(ids, s.UUID)
		}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("uuid %s used twice in one response", id)
			}
			seen[id] = true
		}
	}
	if len(a.Cards) != len(b.Cards) || len(a.Cards) < 3 {
		t.Fatalf("%d and %d cards", len(a.Cards), len(b.Cards))
	}
	for i := range a.Cards {
		if a.Cards[i].UUID == b.Cards[i].UUID {
			t.Errorf("card %d has the same uuid in two responses", i)
		}
		sa, sb := a.Cards[i].Extension[ExtStableID], b.Cards[i].Extension[ExtStableID]
		if sa == nil || sa != sb {
			t.Errorf("card %d stable ids %v and %v", i, sa, sb)
		}
	}
}

// TestMedicationsNotProvided: without the medication-list prefetch the
// draft orders are still assessed, and the response says so first, in an
// information card and a response-level note — never silently.
func TestMedicationsNotProvided(t *testing.T) {
	kb := loadKB(t)
	body, _ := os.ReadFile("testdata/order_sign_request.json")
	for _, variant := range []string{"absent", "null"} {
		t.Run(variant, func(t *testing.T) {
			var raw map[string]any
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			pf := raw["prefetch"].(map[string]any)
			for _, k := range []string{"medicationRequests", "medicationStatements"} {
				if variant == "absent" {
					delete(pf, k)
				} else {
					pf[k] = nil
				}
			}
			b, _ := json.Marshal(raw)
			req, err := ParseRequest(b, ServiceID)
			if err != nil {
				t.Fatal(err)
			}
			if req.MedicationsProvided() {
				t.Fatal("MedicationsProvided = true")
			}
			resp, res, err := Evaluate(kb, req, now, CardOptions{Lang: "en", NewUUID: counter()})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Cards) < 2 || resp.Cards[0].Indicator != IndicatorInfo || !strings.Contains(resp.Cards[0].Summary, "Current medications not provided") {
				t.Fatalf("first card: %+v", resp.Cards)
			}
			if notes, _ := resp.Extension[ExtNotes].([]string); len(notes) != 1 || notes[0] != string(risk.NoteMedicationsNotProvided) {
				t.Errorf("response extension: %v", resp.Extension)
			}
			if len(res.Notes) == 0 || res.Notes[0].Reason != risk.NoteMedicationsNotProvided {
				t.Errorf("result notes: %+v", res.Notes)
			}
			// The drafts were still assessed: ibuprofen + tramadol cards.
			if !strings.Contains(mustJSON(resp), "DDI-SERO-03") && !strings.Contains(mustJSON(resp), "PIM-NSAID-01") {
				t.Errorf("draft orders not assessed: %s", mustJSON(resp))
			}
		})
	}
	// With the list (even an empty search result) there is no such card.
	req, _ := ParseRequest(body, ServiceID)
	if !req.MedicationsProvided() {
		t.Fatal("MedicationsProvided = false for the full request")
	}
	resp, _, _ := Evaluate(kb, req, now, CardOptions{Lang: "en"})
	if strings.Contains(mustJSON(resp), "not provided") || resp.Extension != nil {
		t.Error("medications-not-provided card although the list was sent")
	}
}

// TestPatientMismatch: resources about another patient than
// context.patientId are refused.
func TestPatientMismatch(t *testing.T) {
	kb := loadKB(t)
	body, _ := os.ReadFile("testdata/order_sign_request.json")
	for _, tc := range []struct {
		name   string
		mutate func(raw map[string]any)
		want   string
	}{
		{"context names another patient", func(raw map[string]any) {
			raw["context"].(map[string]any)["patientId"] = "pat-2"
		}, "context.draftOrders"},
		{"prefetched Patient differs", func(raw map[string]any) {
			raw["prefetch"].(map[string]any)["patient"].(map[string]any)["id"] = "pat-9"
		}, "prefetch.patient"},
		{"prefetched medication of another patient", func(raw map[string]any) {
			pf := raw["prefetch"].(map[string]any)["medicationRequests"].(map[string]any)
			e := pf["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
			e["subject"] = map[string]any{"reference": "Patient/pat-9"}
		}, "prefetch.medicationRequests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]any
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			tc.mutate(raw)
			b, _ := json.Marshal(raw)
			req, err := ParseRequest(b, ServiceID)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Evaluate(kb, req, now, CardOptions{})
			if assist.KindOf(err) != assist.KindInvalid || !strings.Contains(assist.MessageOf(err), tc.want) || strings.Contains(assist.MessageOf(err), "pat-9") {
				t.Fatalf("err = %v, want invalid naming %s (and no ids)", err, tc.want)
			}
		})
	}
}

// TestDoseCardsGolden: a draft metformin above its eGFR band and a
// pregabalin within its band, with the current rivaroxaban at an AF dose
// above the CrCl band: dose flags name the daily dose and the limit.
func TestDoseCardsGolden(t *testing.T) {
	kb := loadKB(t)
	body, err := os.ReadFile("testdata/order_sign_dose_request.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseRequest(body, ServiceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fi", "en"} {
		resp, res, err := Evaluate(kb, req, now, CardOptions{Lang: lang, NewUUID: counter(), AllFlags: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := strings.Join(func() []string {
			var out []string
			for _, f := range res.Flags {
				out = append(out, f.RuleID)
			}
			return out
		}(), ",")
		for _, want := range []string{"REN-MET-02", "REN-RIV-02"} {
			if !strings.Contains(ids, want) {
				t.Errorf("%s: no %s flag: %s", lang, want, ids)
			}
		}
		if strings.Contains(ids, "REN-PGB") {
			t.Errorf("pregabalin within its band flagged: %s", ids)
		}
		for _, c := range resp.Cards {
			checkCard(t, c)
		}
		golden(t, "order_sign_dose_response_"+lang+".golden.json", stableResponse(resp, kb.Version()))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// BenchmarkEvaluate measures one order-sign call in process: request
// parsing, patient checks, FHIR resources, assessment and cards.
func BenchmarkEvaluate(b *testing.B) {
	kb, err := risk.DefaultKB()
	if err != nil {
		b.Fatal(err)
	}
	body, err := os.ReadFile("testdata/order_sign_request.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, err := ParseRequest(body, ServiceID)
		if err != nil {
			b.Fatal(err)
		}
		resp, _, err := Evaluate(kb, req, now, CardOptions{Lang: "fi"})
		if err != nil || len(resp.Cards) == 0 {
			b.Fatal(err)
		}
		if _, err := json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}
