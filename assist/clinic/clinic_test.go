package clinic

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/risk"
)

// fakeSearch returns fixed passages for the collection "ohjeet".
type fakeSearch struct{ passages []string }

func (f fakeSearch) Search(_ context.Context, q retrieval.Query) (retrieval.Hits, error) {
	if q.Collection != "ohjeet" {
		return retrieval.Hits{}, assist.E(assist.KindNotFound, "fake.Search", "no collection "+q.Collection)
	}
	h := retrieval.Hits{Collection: q.Collection, Results: []retrieval.Result{}}
	for i, p := range f.passages {
		h.Results = append(h.Results, retrieval.Result{ChunkID: int64(100 + i), DocumentID: 7, Title: "Kotihoito-ohjeet",
			Source: "ohjeet.md", HeadingPath: []string{"Flunssa"}, Start: 0, End: len([]rune(p)), Text: p})
	}
	return h, nil
}

// fakeModel answers with a fixed text and counts calls.
type fakeModel struct {
	text string
	mu   sync.Mutex
	got  []record.Call
}

func (f *fakeModel) Generate(_ context.Context, c record.Call) (record.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, c)
	return record.Result{Text: f.text, Seq: 41, Model: record.Model{Name: "tiny", Digest: "sha256:abc"}}, nil
}

// memAudit keeps entries in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []record.Entry
}

func (m *memAudit) Record(_ context.Context, seq int64) (audit.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := int(seq - 42)
	if i < 0 || i >= len(m.entries) {
		return audit.Record{}, assist.E(assist.KindNotFound, "mem.Record", "no record")
	}
	e := m.entries[i]
	return audit.Record{Seq: seq, Kind: e.Kind, RelatesTo: e.RelatesTo, Attrs: e.Attrs, Outcome: e.Outcome}, nil
}

func (m *memAudit) Commit(_ context.Context, e record.Entry) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return int64(41 + len(m.entries)), nil
}

var testPassages = []string{
	"Flunssan kotihoito: lepää, juo riittävästi. Kuumeeseen voi ottaa parasetamolia 500 mg enintään 3 kertaa päivässä.",
	"Hakeudu hoitoon, jos kuume jatkuu yli kolme päivää tai hengitys vaikeutuu.",
}

func newTestService(t testing.TB, modelText string) (*Service, *fakeModel, *memAudit) {
	t.Helper()
	rules, err := redflags.Default()
	if err != nil {
		t.Fatal(err)
	}
	kb, err := risk.DefaultKB()
	if err != nil {
		t.Fatal(err)
	}
	m, a := &fakeModel{text: modelText}, &memAudit{}
	s, err := New(Config{}, Deps{Rules: rules, KB: kb, Search: fakeSearch{testPassages}, Model: m, Audit: a, Records: a})
	if err != nil {
		t.Fatal(err)
	}
	return s, m, a
}

func answer(urgency, reply string, cites []int, quote string) string {
	b, _ := json.Marshal(map[string]any{"urgency": urgency, "reply": reply, "citations": cites,
		"reasons": []map[string]string{{"text": "the patient's words", "quote": quote}},
		"note":    map[string]string{"situation": "flunssa", "background": "", "assessment": "lievä", "recommendation": "kotihoito"}})
	return string(b)
}

func patient(texts ...string) []Message {
	var out []Message
	for i, t := range texts {
		out = append(out, Message{ID: "m" + string(rune('1'+i)), Author: AuthorPatient, Text: t})
	}
	return out
}

func TestAssistDraftChecks(t *testing.T) {
	cold := "Minulla on flunssa ja kuumetta 38, voinko ottaa parasetamolia?"
	for _, tc := range []struct {
		name, model, status, code string
	}{
		{"cited and grounded", answer("self_care", "Lepää ja juo riittävästi [1]. Parasetamolia voi ottaa 500 mg [1].", []int{1}, "flunssa"), DraftReady, ""},
		{"cites nothing", answer("self_care", "Lepää ja juo riittävästi.", nil, "flunssa"), DraftWithheld, WithheldNoCitation},
		{"cites a passage not retrieved", answer("self_care", "Lepää [3].", []int{3}, "flunssa"), DraftWithheld, WithheldBadCitation},
		{"dose not in the sources", answer("self_care", "Ota parasetamolia 1000 mg [1].", []int{1}, "flunssa"), DraftWithheld, WithheldDose},
		{"dose only in an uncited passage", answer("self_care", "Ota 500 mg [2].", []int{2}, "flunssa"), DraftWithheld, WithheldDose},
		{"empty reply", answer("self_care", " ", []int{1}, "flunssa"), DraftWithheld, WithheldEmpty},
		{"reply in another language", answer("self_care", "Rest and drink plenty of fluids, and you can take it easy at home [1].", []int{1}, "flunssa"), DraftWithheld, WithheldLanguage},
		{"not JSON (as the tiny model writes)", "lorem ipsum dolor", DraftWithheld, WithheldInvalidOutput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, a := newTestService(t, tc.model)
			sg, err := s.Assist(context.Background(), Request{Conversation: patient(cold), Collection: "ohjeet"})
			if err != nil {
				t.Fatal(err)
			}
			if sg.Draft.Status != tc.status {
				t.Fatalf("status %s, want %s (%+v)", sg.Draft.Status, tc.status, sg.Draft.Withheld)
			}
			if tc.code != "" && (sg.Draft.Withheld == nil || sg.Draft.Withheld.Code != tc.code || sg.Draft.Text != "") {
				t.Errorf("withheld %+v text %q, want code %s and no text", sg.Draft.Withheld, sg.Draft.Text, tc.code)
			}
			if tc.status == DraftReady && (len(sg.Draft.Citations) != 1 || sg.Draft.Citations[0].ChunkID != 100) {
				t.Errorf("citations %+v", sg.Draft.Citations)
			}
			if len(a.entries) != 1 || a.entries[0].RelatesTo != 41 || len(a.entries[0].Sources) != 2 || sg.ID != 42 {
				t.Errorf("suggestion record: %+v (id %d)", a.entries, sg.ID)
			}
			if sg.Draft.Lang != "fi" {
				t.Errorf("lang %s", sg.Draft.Lang)
			}
		})
	}
}

func TestAssistRedFlagSetsMinimumAndReply(t *testing.T) {
	for _, tc := range []struct {
		name, text, model, level, basis, reply string
	}{
		{"model cannot lower", "Rintakipua ja hengenahdistusta puoli tuntia.", answer("self_care", "Lepää [1].", []int{1}, "Rintakipua"), "emergency", "red_flag", DefaultEmergencyReply.FI},
		{"model may raise", "Rintakipua on tullut rappusissa.", answer("emergency", "Lepää [1].", []int{1}, "Rintakipua"), "emergency", "red_flag+model", DefaultUrgentReply.FI},
		{"same-day flag kept", "I have had chest pain on and off since yesterday.", answer("few_days", "Rest [1].", []int{1}, "chest pain"), "same_day", "red_flag", DefaultUrgentReply.EN},
		{"no flag, model decides", "Nuhaa ja kurkku vähän kipeä.", answer("self_care", "Lepää [1].", []int{1}, "Nuhaa"), "self_care", "model", ""},
		{"no flag, no valid model urgency", "Nuhaa ja kurkku vähän kipeä.", answer("soon", "Lepää [1].", []int{1}, "Nuhaa"), "few_days", "default", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newTestService(t, tc.model)
			sg, err := s.Assist(context.Background(), Request{Conversation: patient(tc.text), Collection: "ohjeet"})
			if err != nil {
				t.Fatal(err)
			}
			if sg.Urgency.Level != tc.level || sg.Urgency.Basis != tc.basis {
				t.Errorf("urgency %s (%s), want %s (%s)", sg.Urgency.Level, sg.Urgency.Basis, tc.level, tc.basis)
			}
			if tc.reply != "" && (sg.Draft.Status != DraftFlagReply || sg.Draft.Text != tc.reply) {
				t.Errorf("draft %s %q, want the configured reply", sg.Draft.Status, sg.Draft.Text)
			}
			for _, r := range sg.Urgency.Reasons {
				for _, sp := range r.Spans {
					if got := string([]rune(tc.text)[sp.Start:sp.End]); got != sp.Text || got == "" {
						t.Errorf("reason span %+v does not quote the message (%q)", sp, got)
					}
				}
			}
		})
	}
}

func TestAssistMedicinesGoToTheNurseOnly(t *testing.T) {
	s, m, _ := newTestService(t, answer("few_days", "Lepää [1].", []int{1}, "Marevan"))
	age := 78
	sg, err := s.Assist(context.Background(), Request{
		Conversation: []Message{
			{Author: AuthorPatient, Text: "Käytän Marevania. Selkä on kipeä, voinko ottaa Buranaa?"},
			{Author: AuthorProfessional, Text: "Kiitos viestistä, selvitämme asiaa."},
		},
		Patient:    &PatientContext{Age: &age, Sex: "female", Conditions: []json.RawMessage{json.RawMessage(`{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I48.9"}]}}`)}},
		Collection: "ohjeet",
	})
	if err != nil {
		t.Fatal(err)
	}
	mr := sg.MedicationRisk
	if mr == nil || len(mr.Drugs) != 2 || len(mr.Flags) == 0 {
		t.Fatalf("medication risk %+v", mr)
	}
	found := false
	for _, f := range mr.Flags {
		found = found || f.RuleID == "DDI-BLEED-01"
	}
	if !found {
		t.Errorf("warfarin + ibuprofen not flagged: %+v", mr.Flags)
	}
	if strings.Contains(m.got[0].Prompt, "DDI-BLEED") || strings.Contains(m.got[0].Prompt, "Bleeding") {
		t.Errorf("medication flags leaked into the prompt")
	}
	if !strings.Contains(strings.Join(sg.Note.Medicines, ","), "B01AA03") {
		t.Errorf("note medicines %v", sg.Note.Medicines)
	}
}

func TestAssistBadInput(t *testing.T) {
	s, _, a := newTestService(t, "{}")
	long := strings.Repeat("a", 4001)
	many := make([]Message, 101)
	for i := range many {
		many[i] = Message{Author: AuthorPatient, Text: "hei"}
	}
	for _, tc := range []struct {
		name string
		req  Request
		kind assist.Kind
	}{
		{"empty thread", Request{Collection: "ohjeet"}, assist.KindInvalid},
		{"message over the limit", Request{Conversation: patient(long), Collection: "ohjeet"}, assist.KindTooLarge},
		{"too many messages", Request{Conversation: many, Collection: "ohjeet"}, assist.KindTooLarge},
		{"unknown author", Request{Conversation: []Message{{Author: "bot", Text: "hei"}}, Collection: "ohjeet"}, assist.KindInvalid},
		{"only professional messages", Request{Conversation: []Message{{Author: AuthorProfessional, Text: "hei"}}, Collection: "ohjeet"}, assist.KindInvalid},
		{"blank message", Request{Conversation: patient("  "), Collection: "ohjeet"}, assist.KindInvalid},
		{"bad collection name", Request{Conversation: patient("hei"), Collection: "Ohjeet!"}, assist.KindInvalid},
		{"unknown collection", Request{Conversation: patient("hei"), Collection: "muut"}, assist.KindNotFound},
		{"bad language", Request{Conversation: patient("hei"), Collection: "ohjeet", Lang: "de"}, assist.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Assist(context.Background(), tc.req)
			if assist.KindOf(err) != tc.kind {
				t.Errorf("err %v, want kind %s", err, tc.kind)
			}
			if strings.Contains(assist.MessageOf(err), "aaaa") {
				t.Errorf("error message quotes the message")
			}
		})
	}
	if len(a.entries) != 0 {
		t.Errorf("refused requests recorded as suggestions")
	}
}

func TestScaleValidate(t *testing.T) {
	five := Scale{
		{ID: "now", Canonical: redflags.Emergency, Label: redflags.Text{FI: "a", SV: "a", EN: "a"}},
		{ID: "2h", Canonical: redflags.SameDay, Label: redflags.Text{FI: "b", SV: "b", EN: "b"}},
		{ID: "today", Canonical: redflags.SameDay, Label: redflags.Text{FI: "c", SV: "c", EN: "c"}},
		{ID: "week", Canonical: redflags.FewDays, Label: redflags.Text{FI: "d", SV: "d", EN: "d"}},
		{ID: "home", Canonical: redflags.SelfCare, Label: redflags.Text{FI: "e", SV: "e", EN: "e"}},
	}
	if err := five.Validate(); err != nil {
		t.Fatal(err)
	}
	if five.ForCanonical(redflags.SameDay) != 1 {
		t.Errorf("a same-day flag maps to the most urgent same-day level")
	}
	bad := append(Scale{}, five[1], five[0], five[3], five[4])
	if err := bad.Validate(); err == nil {
		t.Errorf("out-of-order scale accepted")
	}
	if err := five[:4].Validate(); err == nil {
		t.Errorf("scale without self_care accepted")
	}
}
