package summary

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	goldenfile "github.com/soteai/gateway/assist/golden"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

const hetu = "131052-308T"

func visit() []Turn {
	return []Turn{
		{ID: "t1", Speaker: "Lääkäri", Text: "Hei Liisa Virtanen, mikä tuo tänään vastaanotolle?"},
		{ID: "t2", Speaker: "Potilas", Text: "Minulla on ollut kolme päivää kovaa päänsärkyä oikealla puolella. Henkilötunnukseni on " + hetu + "."},
		{ID: "t3", Speaker: "Lääkäri", Text: "Onko rintakipua tai kuumetta?"},
		{ID: "t4", Speaker: "Potilas", Text: "Ei rintakipua, ei kuumetta."},
		{ID: "t5", Speaker: "Lääkäri", Text: "Verenpaine on 150/95. Aloitetaan ibuprofeeni 400 mg kolme kertaa päivässä ja kontrolli viikon päästä, Virtasen kanssa sovittu."},
	}
}

func newService(f *fakeModels, o Options) *Service {
	return &Service{Models: f, Templates: DefaultTemplates(), Options: o}
}

func TestTemplates(t *testing.T) {
	ts := DefaultTemplates()
	for _, tc := range []struct{ name, kind, lang, section, title string }{
		{"soap", KindVisit, "en", "plan", "Plan"},
		{"kanta", KindVisit, "fi", "tulosyy", "Tulosyy"},
		{"kanta", KindVisit, "fi", "hoidon_suunnitelma", "Hoidon suunnitelma"},
		{"kanta", KindVisit, "sv", "esitiedot", "Förhandsuppgifter"},
		{"kanta@1.0.0", KindVisit, "sv", "arvio", "Bedömning"},
		{"discharge", KindVisit, "en", "follow_up", "Follow-up"},
		{"background", KindBackground, "fi", "allergies", "Allergiat"},
	} {
		t.Run(tc.name+"/"+tc.section, func(t *testing.T) {
			tm, err := ts.Get(tc.name, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := tm.Section(tc.section)
			if !ok || s.Title.In(tc.lang) != tc.title || s.Code.System != "http://loinc.org" {
				t.Errorf("section %+v", s)
			}
		})
	}
	if _, err := ts.Get("nope", KindVisit); assist.KindOf(err) != assist.KindInvalid || !strings.Contains(err.Error(), "soap@1.0.0") {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := ts.Get("background", KindVisit); err == nil {
		t.Error("a background template was accepted for a visit note")
	}
}

func TestCountyTemplates(t *testing.T) {
	dir := t.TempDir()
	own := `{"id":"soap","version":"1.1.0","kind":"visit","title":{"en":"County SOAP"},"document_type":{"system":"http://loinc.org","code":"11506-3"},
	"sections":[{"key":"s","title":{"en":"S"},"code":{"system":"http://loinc.org","code":"61150-9"}}]}`
	if err := os.WriteFile(filepath.Join(dir, "soap11.json"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tm, _ := ts.Get("soap", KindVisit); tm.Version != "1.1.0" || tm.Source != dir {
		t.Errorf("newest soap = %s from %s", tm.Version, tm.Source)
	}
	if tm, _ := ts.Get("soap@1.0.0", KindVisit); tm == nil || tm.Source != "builtin" {
		t.Errorf("soap@1.0.0 = %+v", tm)
	}
	for name, body := range map[string]string{
		"dup.json":     strings.Replace(own, "1.1.0", "1.0.0", 1),
		"unknown.json": `{"id":"x","version":"1","kind":"visit","colour":"red"}`,
		"nocode.json":  strings.Replace(strings.Replace(own, `"code":"61150-9"`, `"code":""`, 1), "1.1.0", "2.0.0", 1),
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadTemplates(d); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadTemplates: %v", err)
			}
		})
	}
}

func TestPromptGolden(t *testing.T) {
	ps := newPseudonyms(visit(), []string{"Liisa", "Virtanen"})
	for _, tc := range []struct{ tmpl, lang string }{{"soap", "en"}, {"kanta", "fi"}, {"kanta", "sv"}, {"discharge", "en"}} {
		t.Run(tc.tmpl+"-"+tc.lang, func(t *testing.T) {
			tm, _ := DefaultTemplates().Get(tc.tmpl, "")
			d := newPromptData(tm, tc.lang)
			d.Sources = ps.hideTurns(visit())
			sys, prompt := render(d)
			golden(t, fmt.Sprintf("prompt_%s_%s.golden", tc.tmpl, tc.lang), []byte(sys+"\n----\n"+prompt))
		})
	}
	t.Run("map-reduce", func(t *testing.T) {
		tm, _ := DefaultTemplates().Get("soap", "")
		d := newPromptData(tm, "en")
		d.Sources, d.Part, d.Parts = ps.hideTurns(visit())[:2], 1, 3
		_, mp := render(d)
		d = newPromptData(tm, "en")
		d.Partials = []promptPartial{{Section: "subjective", Text: "Headache for three days.", Cites: "t2"}, {Section: "plan", Text: "Ibuprofen 400 mg three times a day.", Cites: "t5"}}
		_, rp := render(d)
		golden(t, "prompt_map_reduce.golden", []byte(mp+"\n----\n"+rp))
	})
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // key:text|cites;...
	}{
		{"plain", `{"plan":[{"text":"Ibuprofen.","cites":["t5"]}]}`, "plan:Ibuprofen.|t5"},
		{"fenced with prose", "Here it is:\n```json\n{\"plan\": [{\"sentence\": \"A.\", \"citations\": \"t1, t2\"}]}\n```", "plan:A.|t1,t2"},
		{"wrapper object", `{"sections":{"plan":["B. [t3]"]}}`, "plan:B.|t3"},
		{"wrapper list", `{"sections":[{"key":"plan","sentences":[{"text":"C.","turns":[4]}]}]}`, "plan:C.|4"},
		{"string section", `{"assessment":"First. Second [t2]."}`, "assessment:First.|;assessment:Second [t2].|"},
		{"object section", `{"plan":{"text":"D.","cites":"t9"}}`, "plan:D.|t9"},
		{"empty and junk", `{"plan":[],"x":[1,null,{}]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ok := parseAnswer(tt.in)
			if !ok {
				t.Fatal("not parsed")
			}
			var got []string
			for _, s := range raw {
				for _, x := range s.Sentences {
					got = append(got, s.Key+":"+x.Text+"|"+strings.Join(x.Cites, ","))
				}
			}
			if g := strings.Join(got, ";"); g != tt.want {
				t.Errorf("got %q, want %q", g, tt.want)
			}
		})
	}
	if _, ok := parseAnswer("no json here"); ok {
		t.Error("prose parsed")
	}
}

func TestStreamParser(t *testing.T) {
	text := `{"subjective":[{"text":"A.","cites":["t1"]}],"objective":[],"plan":[{"text":"B.","cites":["t2"]}]}`
	var p streamParser
	var got []string
	for i := 0; i < len(text); i += 5 {
		for _, s := range p.add(text[i:min(i+5, len(text))]) {
			got = append(got, fmt.Sprintf("%s@%d", s.Key, min(i+5, len(text))))
		}
	}
	// Each section is reported once, as soon as its value is complete.
	if len(got) != 3 || !strings.HasPrefix(got[0], "subjective@") || !strings.HasPrefix(got[2], "plan@") {
		t.Errorf("sections %v", got)
	}
	if got[0] == "subjective@"+fmt.Sprint(len(text)) {
		t.Errorf("the first section came only at the end: %v", got)
	}
}

func TestPseudonyms(t *testing.T) {
	turns := visit()
	turns = append(turns, Turn{ID: "t6", Speaker: "Dr. Mäkinen", Text: "Rouva Korhonen odottaa."})
	ps := newPseudonyms(turns, []string{"Liisa", "Virtanen"})
	hidden := ps.hideTurns(turns)
	all := fmt.Sprint(hidden)
	for _, secret := range []string{hetu, "Liisa", "Virtanen", "Virtasen", "Mäkinen", "Korhonen"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q reaches the model: %s", secret, all)
		}
	}
	if !strings.Contains(hidden[1].Text, "[HETU-1]") || !strings.Contains(hidden[0].Text, "[NAME-") {
		t.Errorf("placeholders missing: %v", hidden[:2])
	}
	if got := ps.reveal(hidden[1].Text); got != turns[1].Text {
		t.Errorf("reveal = %q", got)
	}
	if got := ps.reveal("[NAME-99] and [HETU-1]"); got != "[NAME-99] and "+hetu {
		t.Errorf("reveal unknown = %q", got)
	}
	// Roles and ordinary capitalised words are not names.
	if strings.Contains(hidden[3].Text, "[NAME") || hidden[2].Speaker != "Lääkäri" {
		t.Errorf("over-redacted: %v", hidden[2:4])
	}
}

func TestDraftBadInput(t *testing.T) {
	long := strings.Repeat("a", 101)
	tests := []struct {
		name string
		req  Request
		kind assist.Kind
		msg  string
	}{
		{"empty transcript", Request{Template: "soap", Lang: "en"}, assist.KindInvalid, "empty"},
		{"blank turn", Request{Template: "soap", Lang: "en", Turns: []Turn{{ID: "a", Text: "  "}}}, assist.KindInvalid, "no text"},
		{"unknown template", Request{Template: "soapy", Lang: "en", Turns: visit()}, assist.KindInvalid, "unknown template"},
		{"no template", Request{Lang: "en", Turns: visit()}, assist.KindInvalid, "no template"},
		{"duplicate ids", Request{Template: "soap", Lang: "en", Turns: append(visit(), Turn{ID: "t2", Text: "x"})}, assist.KindInvalid, `duplicate id "t2"`},
		{"missing id", Request{Template: "soap", Lang: "en", Turns: []Turn{{Text: "x"}}}, assist.KindInvalid, "no id"},
		{"bad lang", Request{Template: "soap", Lang: "de", Turns: visit()}, assist.KindInvalid, "lang"},
		{"oversize turn", Request{Template: "soap", Lang: "en", Turns: []Turn{{ID: "a", Text: long}}}, assist.KindTooLarge, "at most 100"},
		{"too many turns", Request{Template: "soap", Lang: "en", Turns: []Turn{{ID: "a", Text: "x"}, {ID: "b", Text: "y"}, {ID: "c", Text: "z"}}}, assist.KindTooLarge, "turns"},
		{"invalid FHIR", Request{Template: "soap", Lang: "en", Turns: visit(), Context: []byte(`{"resourceType":"Condition","id":"c1","code":"x"}`)}, assist.KindInvalid, "invalid FHIR"},
		{"FHIR without type", Request{Template: "soap", Lang: "en", Turns: visit(), Context: []byte(`{"id":"c1"}`)}, assist.KindInvalid, "resourceType"},
		{"FHIR not JSON", Request{Template: "soap", Lang: "en", Turns: visit(), Context: []byte(`{"resourceType":`)}, assist.KindInvalid, "invalid FHIR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeModels{}
			s := newService(f, Options{Limits: Limits{MaxTurnChars: 100, MaxTurns: 2}})
			if tt.name != "too many turns" && tt.name != "oversize turn" {
				s.Options.Limits = Limits{}
			}
			_, err := s.Draft(context.Background(), &tt.req, nil)
			if assist.KindOf(err) != tt.kind || !strings.Contains(assist.MessageOf(err), tt.msg) {
				t.Errorf("err = %v (kind %s), want %s containing %q", err, assist.KindOf(err), tt.kind, tt.msg)
			}
			if len(f.calls) != 0 || len(f.entries) != 0 {
				t.Errorf("bad input reached the model or the audit log: %d calls, %d records", len(f.calls), len(f.entries))
			}
			if strings.Contains(assist.MessageOf(err), "päänsärkyä") {
				t.Error("the message quotes patient text")
			}
		})
	}
}

func TestDraft(t *testing.T) {
	f := &fakeModels{}
	s := newService(f, Options{})
	ctx := `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p1","name":[{"family":"Virtanen","given":["Liisa"]}],"gender":"female","birthDate":"1952-10-13"}},
	{"resourceType":"Condition","id":"c1"},{"resource":{"resourceType":"Condition","id":"c1","code":{"text":"Migreeni"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}},
	{"resource":{"resourceType":"Procedure","id":"x1"}}]}`
	d, err := s.Draft(context.Background(), &Request{Turns: visit(), Template: "soap", Lang: "fi", Context: []byte(ctx)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || f.calls[0].Format != "json" || f.calls[0].Options["num_ctx"] != 8192 || f.calls[0].RelatesTo == 0 {
		t.Fatalf("calls %+v", f.calls)
	}
	sent := f.calls[0].System + f.calls[0].Prompt
	for _, secret := range []string{hetu, "Liisa", "Virtanen", "1952-10-13"} {
		if strings.Contains(sent, secret) {
			t.Errorf("the model saw %q", secret)
		}
	}
	if !strings.Contains(sent, "[Condition/c1] Condition: condition: Migreeni, status active") {
		t.Errorf("context not in the prompt:\n%s", sent)
	}
	ss := d.Sentences()
	if len(ss) != 4 || ss[0].ID != "s1" || ss[3].ID != "s4" {
		t.Fatalf("sentences %+v", ss)
	}
	if ss[0].Text != visit()[0].Text || len(ss[0].Cites) != 1 || ss[0].Cites[0] != "t1" {
		t.Errorf("first sentence %+v (names restored, unknown citation dropped)", ss[0])
	}
	if !hasFlag(ss[0].Flags, FlagUnknownCitation, "zz9") || !hasType(ss[0].Flags, FlagNotChecked) || ss[0].Supported {
		t.Errorf("flags %+v", ss[0].Flags)
	}
	if k := f.kinds(); len(k) != 2 || k[0] != KindTaskStart || k[1] != "ai.output" {
		t.Errorf("records %v", k)
	}
	if d.Model.Digest != "sha256:f00d" || d.TemplateID != "soap" || d.AuditSeq == 0 || len(d.Skipped) != 1 {
		t.Errorf("draft %+v", d)
	}
	if strings.Contains(string(f.entries[0].Input), hetu) {
		t.Error("the task record's input holds the identity code")
	}
	if f.entries[0].Patient != hetu {
		t.Errorf("patient %q: the identity code found in the transcript links the record", f.entries[0].Patient)
	}
}

func TestDraftStream(t *testing.T) {
	f := &fakeModels{chunk: 3}
	s := newService(f, Options{})
	var events []string
	d, err := s.Draft(context.Background(), &Request{Turns: visit(), Template: "kanta", Lang: "fi", Stream: true}, func(e Event) error {
		name := e.Name
		if sec, ok := e.Data.(DraftSection); ok {
			name += ":" + sec.Key
		}
		events = append(events, name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "start section:tulosyy section:esitiedot section:nykytila section:tutkimukset section:arvio section:hoidon_suunnitelma done"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("events %s", got)
	}
	if len(d.Sentences()) != 6 {
		t.Errorf("%d sentences", len(d.Sentences()))
	}
	// The client going away stops the stream and nothing is released.
	f2 := &fakeModels{chunk: 3}
	n := 0
	_, err = newService(f2, Options{}).Draft(context.Background(), &Request{Turns: visit(), Template: "kanta", Lang: "fi", Stream: true}, func(e Event) error {
		if n++; n == 2 {
			return errors.New("client gone")
		}
		return nil
	})
	if assist.KindOf(err) != assist.KindCanceled {
		t.Errorf("err %v", err)
	}
	if k := f2.kinds(); len(k) != 2 || k[1] != KindTaskFailed || f2.entries[1].Outcome != "canceled" {
		t.Errorf("a canceled draft: records %v", k)
	}
}

func TestMapReduce(t *testing.T) {
	f := &fakeModels{}
	s := newService(f, Options{NumCtx: 1100, NumPredict: 200, MaxParallel: 3})
	var turns []Turn
	for i := range 60 {
		turns = append(turns, Turn{ID: fmt.Sprintf("t%d", i+1), Speaker: "Doctor", Text: fmt.Sprintf("Turn number %d says something about the visit, with enough words to count.", i+1)})
	}
	turns = append(turns, Turn{ID: "long", Speaker: "Patient", Text: strings.Repeat("very long turn ", 400)})
	var progress int
	d, err := s.Draft(context.Background(), &Request{Turns: turns, Template: "soap", Lang: "en", Stream: true}, func(e Event) error {
		if e.Name == "progress" {
			progress++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Segments < 3 {
		t.Fatalf("%d segments", d.Segments)
	}
	maps, reduces := 0, 0
	seen := map[string]int{}
	for _, c := range f.calls {
		if c.RelatesTo != d.TaskSeq {
			t.Errorf("call %v relates to %d, not the task %d", c.Attrs, c.RelatesTo, d.TaskSeq)
		}
		switch c.Attrs["step"] {
		case "map":
			maps++
			for _, m := range sourceLine.FindAllStringSubmatch(c.Prompt, -1) {
				seen[m[1]] += len(m[2])
			}
		case "reduce":
			reduces++
		}
	}
	if maps != d.Segments || reduces < 1 || progress != maps || d.Calls != maps+reduces {
		t.Errorf("maps %d reduces %d progress %d calls %d segments %d", maps, reduces, progress, d.Calls, d.Segments)
	}
	// Never truncated: every turn reached a map step whole.
	for _, tr := range turns {
		if seen[tr.ID] < len(strings.TrimSpace(tr.Text))-len(strings.Fields(tr.Text)) {
			t.Errorf("turn %s: %d of %d characters reached the model", tr.ID, seen[tr.ID], len(tr.Text))
		}
	}
	if len(d.Sentences()) == 0 {
		t.Error("the reduced draft is empty")
	}
}
