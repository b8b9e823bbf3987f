package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/summaryfhir"
)

// summaryVisit is a short Finnish visit; it carries the prompt marker and
// an identity code, which the log scan must never find.
func summaryVisit() string {
	turns := []summary.Turn{
		{ID: "t1", Speaker: "Lääkäri", Text: "Hei, mikä tuo tänään vastaanotolle?"},
		{ID: "t2", Speaker: "Potilas", Text: promptMarker + " kolme päivää, oikealla puolella. Henkilötunnus " + hetuExample + "."},
		{ID: "t3", Speaker: "Lääkäri", Text: "Onko rintakipua?"},
		{ID: "t4", Speaker: "Potilas", Text: "Ei rintakipua."},
		{ID: "t5", Speaker: "Lääkäri", Text: "Aloitetaan ibuprofeeni 400 mg kolme kertaa päivässä."},
	}
	b, _ := json.Marshal(map[string]any{"transcript": turns, "template": "kanta", "lang": "fi"})
	return string(b)
}

func summaryGateway(t *testing.T, extra string) (*gateway, string) {
	t.Helper()
	ay := auditYAML(t)
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), ay+"models:\n  chat: "+testModel()+"\n"+extra)
	return g, ay
}

// auditRecords returns the audit records relating to seq.
func auditRecords(t *testing.T, g *gateway, q string) []audit.Record {
	t.Helper()
	resp := g.do(t, assist.RoleAdmin, "GET", "/v1/audit/records?limit=500&"+q, "")
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("audit records: %d %s", resp.StatusCode, body)
	}
	var p audit.Page
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, e := range p.Entries {
		out = append(out, e.Record)
	}
	return out
}

func countDrafts(t *testing.T, g *gateway) int {
	t.Helper()
	var n int
	if err := g.DB.QueryRow(context.Background(), "SELECT count(*) FROM summary_drafts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSummaryDraftAndReview asks the real model for a draft, reads it
// back, reviews it and follows the review up, through the gateway.
func TestSummaryDraftAndReview(t *testing.T) {
	g, _ := summaryGateway(t, "")
	resp := g.do(t, assist.RoleClinician, "POST", "/v1/summaries", summaryVisit())
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /v1/summaries: %d %s", resp.StatusCode, body)
	}
	var d summary.Draft
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.TemplateID != "kanta" || len(d.Sections) != 6 || d.Sections[0].Title != "Tulosyy" || d.Model.Digest == "" {
		t.Fatalf("draft %+v", d)
	}
	if resp.Header.Get("X-Sote-Audit-Seq") != fmt.Sprint(d.AuditSeq) {
		t.Errorf("audit seq header %q, draft %d", resp.Header.Get("X-Sote-Audit-Seq"), d.AuditSeq)
	}
	// The tiny model writes nonsense: only the structure is checked. Every
	// sentence kept cites only known turns.
	for _, s := range d.Sentences() {
		for _, c := range s.Cites {
			if c < "t1" || c > "t5" || len(c) != 2 {
				t.Errorf("sentence %s cites unknown %q", s.ID, c)
			}
		}
	}
	steps := map[string]string{}
	for _, r := range auditRecords(t, g, fmt.Sprintf("relates_to=%d", d.TaskSeq)) {
		// The model call names its prompt template and the note template;
		// the draft's record names the note template.
		okTemplate := r.TemplateID == "summary.note" && r.Attrs["note_template"] == "kanta@1.0.0" || r.TemplateID == "kanta" && r.Attrs["step"] == "draft"
		if r.Model != testModel() || !okTemplate || r.Kind != audit.KindAIOutput {
			t.Errorf("record %+v", r)
		}
		steps[r.Attrs["step"]] = string(r.Kind)
	}
	if len(steps) != 2 || steps["note"] == "" || steps["draft"] == "" {
		t.Errorf("records of the task: %v", steps)
	}

	// Another role may not ask; the draft reads back with its sources.
	if r := g.do(t, assist.RoleInterpreter, "POST", "/v1/summaries", summaryVisit()); r.StatusCode != 403 {
		t.Errorf("interpreter: %d", r.StatusCode)
	}
	resp = g.do(t, assist.RoleClinician, "GET", fmt.Sprintf("/v1/summaries/%d", d.ID), "")
	body = readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, promptMarker) {
		t.Fatalf("GET draft: %d %.300s", resp.StatusCode, body)
	}
	resp = g.do(t, assist.RoleClinician, "GET", fmt.Sprintf("/v1/summaries/%d/fhir", d.ID), "")
	body = readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/fhir+json" || summaryfhir.Validate([]byte(body)) != nil ||
		!strings.Contains(body, `"AIAST"`) || !strings.Contains(body, d.Model.Digest) {
		t.Errorf("FHIR: %d %.300s", resp.StatusCode, body)
	}
	review := `{"outcome":"edited","final_text":"Tulosyy\nPäänsärky kolme päivää oikealla."}`
	resp = g.do(t, assist.RoleClinician, "POST", fmt.Sprintf("/v1/summaries/%d/review", d.ID), review)
	body = readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, `"edit_distance"`) {
		t.Fatalf("review: %d %s", resp.StatusCode, body)
	}
	if r := g.do(t, assist.RoleClinician, "POST", fmt.Sprintf("/v1/summaries/%d/review", d.ID), `{"outcome":"accepted"}`); r.StatusCode != 409 {
		t.Errorf("second review: %d", r.StatusCode)
	}
	// The signed note goes back to the record as a final Composition.
	resp = g.do(t, assist.RoleClinician, "GET", fmt.Sprintf("/v1/summaries/%d/fhir", d.ID), "")
	body = readAll(t, resp)
	if resp.StatusCode != 200 || summaryfhir.Validate([]byte(body)) != nil || !strings.Contains(body, `"status": "final"`) ||
		!strings.Contains(body, "Päänsärky kolme päivää oikealla.") {
		t.Errorf("signed FHIR: %d %.300s", resp.StatusCode, body)
	}
	revs := auditRecords(t, g, fmt.Sprintf("relates_to=%d&kind=review", d.AuditSeq))
	if len(revs) != 1 || revs[0].Outcome != audit.OutcomeEdited {
		t.Errorf("review records %+v", revs)
	}
	resp = g.do(t, assist.RoleRiskReviewer, "GET", "/v1/summaries/quality?template=kanta", "")
	var q summary.Quality
	if err := json.Unmarshal([]byte(readAll(t, resp)), &q); err != nil || q.Reviews != 1 || q.Outcomes["edited"] != 1 {
		t.Errorf("quality %+v %v", q, err)
	}
	if r := g.do(t, assist.RoleClinician, "GET", "/v1/summaries/quality", ""); r.StatusCode != 403 {
		t.Errorf("clinician reads quality: %d", r.StatusCode)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

func readSSE(t *testing.T, sc *bufio.Scanner, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "":
			out = append(out, cur)
			cur = sseEvent{}
			if n > 0 && len(out) == n {
				return out
			}
		}
	}
	return out
}

func postStream(t *testing.T, g *gateway, ctx context.Context, path, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", g.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Tokens[assist.RoleClinician])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestSummaryStream streams a draft as Server-Sent Events: start, the
// sections as they fill, done.
func TestSummaryStream(t *testing.T) {
	g, _ := summaryGateway(t, "")
	resp := postStream(t, g, context.Background(), "/v1/summaries?stream=true", summaryVisit())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs := readSSE(t, bufio.NewScanner(resp.Body), 0)
	resp.Body.Close()
	if len(evs) < 2 || evs[0].name != "start" || evs[len(evs)-1].name != "done" {
		t.Fatalf("events %+v", evs)
	}
	for _, e := range evs[1 : len(evs)-1] {
		if e.name != "section" {
			t.Errorf("unexpected event %s", e.name)
		}
	}
	var d summary.Draft
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &d); err != nil || d.ID == 0 || d.AuditSeq == 0 {
		t.Fatalf("done: %v %+v", err, d)
	}
	kinds := map[audit.EventKind]int{}
	for _, r := range auditRecords(t, g, fmt.Sprintf("relates_to=%d", d.TaskSeq)) {
		kinds[r.Kind]++
	}
	if kinds[audit.KindStreamStart] != 1 || kinds[audit.KindAIOutput] != 1 {
		t.Errorf("records %v", kinds)
	}

}

// aciVisit is the longest ACI-Bench visit of the test data as a request.
func aciVisit(t testing.TB) string {
	t.Helper()
	f, err := os.ReadFile("../../assist/summary/testdata/aci-bench/visits.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var visit struct {
		ID, Dialogue string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(f), "\n", 2)[0]), &visit); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"transcript": summary.TurnsFromDialogue(visit.Dialogue), "template": "soap", "lang": "en"})
	return string(body)
}

// TestSummaryStreamCancel shows that a client hanging up mid-stream stops
// the work: the task is recorded as canceled, no draft is released or
// kept, and the host is not blamed.
func TestSummaryStreamCancel(t *testing.T) {
	g, _ := summaryGateway(t, "summary:\n  num_ctx: 1536\n  num_predict: 256\n  max_parallel: 1\n")
	// Client cancellation: a long visit map-reduced one segment at a
	// time; the client hangs up after the first map step.
	before := countDrafts(t, g)
	ctx, cancel := context.WithCancel(context.Background())
	resp := postStream(t, g, ctx, "/v1/summaries?stream=true", aciVisit(t))
	first := readSSE(t, bufio.NewScanner(resp.Body), 2)
	if len(first) != 2 || first[0].name != "start" || first[1].name != "progress" {
		t.Fatalf("first events %+v", first)
	}
	var start struct {
		TaskSeq int64 `json:"task_seq"`
	}
	_ = json.Unmarshal([]byte(first[0].data), &start)
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	var outcome audit.Outcome
	for time.Now().Before(deadline) && outcome == "" {
		// The model call relates to the task; a stream's end to its start.
		for _, r := range auditRecords(t, g, fmt.Sprintf("relates_to=%d", start.TaskSeq)) {
			if r.Outcome == audit.OutcomeCanceled {
				outcome = r.Outcome
			}
			if r.Attrs["step"] == "draft" {
				t.Fatalf("a canceled draft was released: %+v", r)
			}
			if r.Kind == audit.KindStreamStart {
				for _, e := range auditRecords(t, g, fmt.Sprintf("relates_to=%d", r.Seq)) {
					if e.Kind == audit.KindStreamEnd && e.Outcome == audit.OutcomeCanceled {
						outcome = e.Outcome
					}
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if outcome != audit.OutcomeCanceled {
		for _, r := range auditRecords(t, g, "") {
			t.Logf("%d %s %s rel %d %v", r.Seq, r.Kind, r.Outcome, r.RelatesTo, r.Attrs)
		}
		t.Error("the canceled stream has no canceled record")
	}
	if n := countDrafts(t, g); n != before {
		t.Errorf("a canceled draft was stored (%d → %d)", before, n)
	}
	// A hang-up is not a host failure: the host still serves.
	if r := g.do(t, assist.RoleClinician, "POST", "/v1/summaries", summaryVisit()); r.StatusCode != 200 {
		t.Errorf("after a cancellation: %d", r.StatusCode)
	}
}

// TestSummaryMapReduce summarises a long ACI-Bench visit with a small
// model context: the transcript is cut into segments, each a map step
// recorded against the task, then reduced; every turn reached the model.
func TestSummaryMapReduce(t *testing.T) {
	g, _ := summaryGateway(t, "summary:\n  num_ctx: 1536\n  num_predict: 256\n  max_parallel: 3\n")
	f, err := os.ReadFile("../../assist/summary/testdata/aci-bench/visits.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var visit struct {
		ID, Dialogue string
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(f), "\n", 2)[0]), &visit); err != nil {
		t.Fatal(err)
	}
	turns := summary.TurnsFromDialogue(visit.Dialogue)
	body, _ := json.Marshal(map[string]any{"transcript": turns, "template": "soap", "lang": "en"})
	resp := g.do(t, assist.RoleClinician, "POST", "/v1/summaries", string(body))
	out := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	var d summary.Draft
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Segments < 3 {
		t.Fatalf("%s (%d turns) in %d segments", visit.ID, len(turns), d.Segments)
	}
	maps, reduces := 0, 0
	for _, r := range auditRecords(t, g, fmt.Sprintf("relates_to=%d", d.TaskSeq)) {
		switch r.Attrs["step"] {
		case "map":
			maps++
			if r.Kind != audit.KindAIOutput || r.Model != testModel() {
				t.Errorf("map record %+v", r)
			}
		case "reduce":
			reduces++
		}
	}
	if maps != d.Segments || reduces < 1 || d.Calls != maps+reduces {
		t.Errorf("segments %d: %d map and %d reduce records, %d calls", d.Segments, maps, reduces, d.Calls)
	}
	t.Logf("%s: %d turns, %d segments, %d model calls", visit.ID, len(turns), d.Segments, d.Calls)
}

// TestSummaryBadInput: every bad request gets a clear 4xx with its kind,
// and nothing is stored or recorded for the task.
func TestSummaryBadInput(t *testing.T) {
	g, _ := summaryGateway(t, "summary:\n  max_turn_chars: 200\n")
	turns := `[{"id":"t1","speaker":"doctor","text":"Hello."}]`
	tests := []struct {
		name, path, body string
		status           int
		kind, msg        string
	}{
		{"empty body", "/v1/summaries", "", 400, "invalid", "empty"},
		{"empty transcript", "/v1/summaries", `{"transcript":[],"template":"soap","lang":"en"}`, 400, "invalid", "transcript is empty"},
		{"unknown template", "/v1/summaries", `{"transcript":` + turns + `,"template":"nope","lang":"en"}`, 400, "invalid", "unknown template"},
		{"duplicate turn ids", "/v1/summaries", `{"transcript":[{"id":"a","text":"x"},{"id":"a","text":"y"}],"template":"soap","lang":"en"}`, 400, "invalid", "duplicate id"},
		{"oversize turn", "/v1/summaries", `{"transcript":[{"id":"a","text":"` + strings.Repeat("x", 201) + `"}],"template":"soap","lang":"en"}`, 413, "too_large", "at most 200"},
		{"oversize body", "/v1/summaries", `{"transcript":[{"id":"a","text":"` + strings.Repeat("x", 9<<20) + `"}]}`, 413, "too_large", "limit"},
		{"unknown field", "/v1/summaries", `{"transcript":` + turns + `,"template":"soap","lang":"en","colour":1}`, 400, "invalid", "colour"},
		{"bad lang", "/v1/summaries", `{"transcript":` + turns + `,"template":"soap","lang":"de"}`, 400, "invalid", "lang"},
		{"invalid FHIR context", "/v1/summaries", `{"transcript":` + turns + `,"template":"soap","lang":"en","context":{"resourceType":"Condition","id":"c","code":5}}`, 400, "invalid", "invalid FHIR"},
		{"invalid FHIR bundle", "/v1/summaries/background", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition","id":"c","code":[1]}}]}`, 400, "invalid", "invalid FHIR"},
		{"not FHIR", "/v1/summaries/background", `{"hello":"world"}`, 400, "invalid", "resourceType"},
		{"empty bundle", "/v1/summaries/background", `{"resourceType":"Bundle","entry":[]}`, 400, "invalid", "no resources"},
		{"bad draft id", "/v1/summaries/abc/review", `{"outcome":"accepted"}`, 400, "invalid", "draft id"},
		{"missing draft", "/v1/summaries/999/review", `{"outcome":"accepted"}`, 404, "not_found", "no such draft"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := g.do(t, assist.RoleClinician, "POST", tt.path, tt.body)
			body := readAll(t, resp)
			var e struct {
				Error struct{ Kind, Message string }
			}
			_ = json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != tt.status || e.Error.Kind != tt.kind || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		})
	}
	if n := countDrafts(t, g); n != 0 {
		t.Errorf("%d drafts stored from bad input", n)
	}
	if recs := auditRecords(t, g, "task=visit_summary"); len(recs) != 0 {
		t.Errorf("%d task records from bad input", len(recs))
	}
}

// TestSummaryBackground summarises a client's record from a FHIR Bundle:
// facts per section cite their resources, medication risk flags come from
// the risk engine, and the model's sentences are checked.
func TestSummaryBackground(t *testing.T) {
	g, _ := summaryGateway(t, "")
	resp := g.do(t, assist.RoleService, "POST", "/v1/summaries/background?lang=en", backgroundBundle)
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var d summary.Draft
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	facts := map[string][]summary.Sentence{}
	for _, s := range d.Facts {
		facts[s.Key] = s.Sentences
	}
	if len(facts["problems"]) != 1 || facts["problems"][0].Cites[0] != "Condition/c1" {
		t.Errorf("problems %+v", facts["problems"])
	}
	risk := false
	for _, s := range facts["medications"] {
		if strings.HasPrefix(s.Text, "Medication risk") && len(s.Cites) >= 2 {
			risk = true
		}
	}
	if !risk || len(facts["allergies"]) != 1 || len(facts["encounters"]) != 2 || len(facts["functional_social"]) != 2 {
		t.Errorf("facts %+v", facts)
	}
	if d.Kind != "background" || d.AuditSeq == 0 || d.ID == 0 {
		t.Errorf("draft %+v", d)
	}
	// The grounding checker ran over the facts: each rests on what it cites.
	for _, sec := range d.Facts {
		for _, s := range sec.Sentences {
			if !s.Supported {
				t.Errorf("fact %s %q is not supported: %+v", s.ID, s.Text, s.Flags)
			}
		}
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Ref != "Procedure/x1" {
		t.Errorf("skipped %+v", d.Skipped)
	}
}

const backgroundBundle = `{"resourceType":"Bundle","type":"collection","entry":[
 {"resource":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1940-02-03","name":[{"family":"Korhonen","given":["Aino"]}]}},
 {"resource":{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I48.9","display":"Atrial fibrillation"}]},"onsetDateTime":"2019-05-01"}},
 {"resource":{"resourceType":"Condition","id":"c2","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]},"code":{"text":"Pneumonia"}}},
 {"resource":{"resourceType":"MedicationStatement","id":"m1","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"B01AA03","display":"warfarin"}]},"dosage":[{"text":"according to INR"}]}},
 {"resource":{"resourceType":"MedicationStatement","id":"m2","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"M01AE01","display":"ibuprofen"}]},"dosage":[{"text":"400 mg three times a day"}]}},
 {"resource":{"resourceType":"AllergyIntolerance","id":"a1","code":{"text":"penicillin"},"reaction":[{"manifestation":[{"text":"rash"}]}]}},
 {"resource":{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB","display":"ambulatory"},"type":[{"text":"Home care visit"}],"period":{"start":"2025-05-02"}}},
 {"resource":{"resourceType":"Encounter","id":"e2","status":"finished","type":[{"text":"Emergency visit"}],"reasonCode":[{"text":"fall"}],"period":{"start":"2025-04-20"}}},
 {"resource":{"resourceType":"DocumentReference","id":"d1","status":"current","date":"2025-05-02","content":[{"attachment":{"contentType":"text/plain","data":"TGl2ZXMgYWxvbmUgaW4gYSBmbGF0LiBEYXVnaHRlciB2aXNpdHMgd2Vla2x5Lg=="}}]}},
 {"resource":{"resourceType":"Procedure","id":"x1","status":"completed"}}
]}`
