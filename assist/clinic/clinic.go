package clinic

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/assist/prompt"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/risk"
)

//go:embed prompts/*.tmpl
var promptFS embed.FS

// Templates are the clinic's prompt templates (ids "clinic.NAME").
var Templates = prompt.MustLoad(promptFS, "prompts", "clinic.")

// TemplateID is the template of the suggestion call.
const TemplateID = "clinic.assist"

// Searcher finds instruction passages: (*retrieval.Service).Search.
// Errors: invalid, not_found for an unknown collection, conflict,
// unavailable.
type Searcher interface {
	Search(ctx context.Context, q retrieval.Query) (retrieval.Hits, error)
}

// Generator is the one audited model call: (*record.Recorder).Generate.
type Generator interface {
	Generate(ctx context.Context, c record.Call) (record.Result, error)
}

// Committer durably records a task event: (*record.Recorder).Commit.
// Errors: unavailable.
type Committer interface {
	Commit(ctx context.Context, e record.Entry) (int64, error)
}

// Config is the county's clinic configuration.
type Config struct {
	// Scale is the urgency scale shown to nurses (default DefaultScale).
	Scale Scale `yaml:"scale"`
	// EmergencyReply is the draft sent for an emergency red flag, in fi,
	// sv and en (default: call 112 now).
	EmergencyReply redflags.Text `yaml:"emergency_reply"`
	// UrgentReply is the draft for a same-day red flag (default: contact
	// the clinic or Päivystysapu 116117 today).
	UrgentReply redflags.Text `yaml:"urgent_reply"`
	// Passages is how many instruction passages are retrieved (default 4).
	Passages int `yaml:"passages"`
	// DefaultLang is the reply language when the patient's cannot be told
	// (default fi).
	DefaultLang string `yaml:"default_lang"`
	Limits      Limits `yaml:"limits"`
	// NumCtx is the model context length (default 4096); NumPredict bounds
	// the answer's tokens (default 768).
	NumCtx     int `yaml:"num_ctx"`
	NumPredict int `yaml:"num_predict"`
}

// DefaultEmergencyReply is used when no county reply is configured.
var DefaultEmergencyReply = redflags.Text{
	FI: "Kertomasi oireet voivat vaatia kiireellistä hoitoa. Soita heti hätänumeroon 112. Älä jää odottamaan vastausta tähän viestiin.",
	SV: "Dina symtom kan kräva akut vård. Ring nödnumret 112 genast. Vänta inte på svar på det här meddelandet.",
	EN: "Your symptoms may need urgent care. Call the emergency number 112 now. Do not wait for a reply to this message.",
}

// DefaultUrgentReply is used for same-day red flags when none is configured.
var DefaultUrgentReply = redflags.Text{
	FI: "Oireesi on arvioitava vielä tänään. Soita terveysasemalle tai Päivystysapuun 116117. Jos olo pahenee, soita 112.",
	SV: "Dina symtom behöver bedömas i dag. Ring hälsostationen eller Päivystysapu 116117. Ring 112 om du blir sämre.",
	EN: "Your symptoms need to be assessed today. Call your health centre or the medical helpline 116117. If you get worse, call 112.",
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if len(c.Scale) == 0 {
		c.Scale = DefaultScale()
	}
	if err := c.Scale.Validate(); err != nil {
		return err
	}
	if c.EmergencyReply == (redflags.Text{}) {
		c.EmergencyReply = DefaultEmergencyReply
	}
	if c.UrgentReply == (redflags.Text{}) {
		c.UrgentReply = DefaultUrgentReply
	}
	for _, t := range []redflags.Text{c.EmergencyReply, c.UrgentReply} {
		if t.FI == "" || t.SV == "" || t.EN == "" {
			return assist.Errorf(assist.KindInvalid, "clinic: emergency_reply and urgent_reply need fi, sv and en texts")
		}
	}
	if c.Passages <= 0 {
		c.Passages = 4
	}
	if c.Passages > 20 {
		return assist.Errorf(assist.KindInvalid, "clinic: passages must be at most 20")
	}
	switch c.DefaultLang {
	case "":
		c.DefaultLang = "fi"
	case "fi", "sv", "en":
	default:
		return assist.Errorf(assist.KindInvalid, "clinic: default_lang must be fi, sv or en")
	}
	if c.NumCtx <= 0 {
		c.NumCtx = 4096
	}
	if c.NumPredict <= 0 {
		c.NumPredict = 768
	}
	c.Limits = c.Limits.withDefaults()
	return nil
}

// Deps are the parts a Service composes.
type Deps struct {
	Rules  *redflags.Set
	KB     *risk.KB
	Search Searcher
	Model  Generator
	Audit  Committer
	// Records looks up suggestions for decisions; nil (auditing
	// disabled) makes Decide unavailable.
	Records Records
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service makes suggestions. It is safe for concurrent use.
type Service struct {
	cfg   Config
	d     Deps
	tmpl  *prompt.Template
	drugs drugIndex
}

// New returns a Service; cfg is validated (defaults filled).
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Rules == nil || d.KB == nil || d.Search == nil || d.Model == nil || d.Audit == nil {
		return nil, assist.Errorf(assist.KindInternal, "clinic.New: rules, knowledge base, search, model and audit are all required")
	}
	t, err := Templates.Latest(TemplateID)
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{cfg: cfg, d: d, tmpl: t, drugs: newDrugIndex(d.KB)}, nil
}

// Config returns the validated configuration.
func (s *Service) Config() Config { return s.cfg }

// Rules returns the red-flag rule set.
func (s *Service) Rules() *redflags.Set { return s.d.Rules }

// Limits returns the request limits.
func (s *Service) Limits() Limits { return s.cfg.Limits }

// Span is a quoted stretch of a conversation message: code-point offsets
// into Conversation[Message].Text, and the quoted text.
type Span struct {
	Message int    `json:"message"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
}

// Reason supports the urgency.
type Reason struct {
	// From is "red_flag" (Rule names it) or "model".
	From  string `json:"from"`
	Rule  string `json:"rule,omitempty"`
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// Urgency is the suggested urgency.
type Urgency struct {
	Level     string           `json:"level"`
	Label     redflags.Text    `json:"label"`
	Canonical redflags.Urgency `json:"canonical"`
	// Minimum is the level the red flags set ("" without a flag);
	// Model is the level the model suggested ("" when it gave none valid).
	Minimum string `json:"minimum,omitempty"`
	Model   string `json:"model,omitempty"`
	// Basis is "red_flag", "model", "red_flag+model" or "default" (no flag,
	// no valid model answer: few_days until a nurse decides).
	Basis   string   `json:"basis"`
	Reasons []Reason `json:"reasons"`
}

// RedFlag is a raised red flag with its evidence in conversation indexes.
type RedFlag struct {
	Rule     string              `json:"rule"`
	Flag     string              `json:"flag"`
	Urgency  redflags.Urgency    `json:"urgency"`
	Title    redflags.Text       `json:"title"`
	Sources  []redflags.Citation `json:"sources"`
	Evidence []Span              `json:"evidence"`
}

// Denied is a red-flag symptom the patient denied (or mentioned as
// hypothetical or past).
type Denied struct {
	Concept string `json:"concept"`
	Cue     string `json:"cue"`
	Span    Span   `json:"span"`
}

// Citation is an instruction passage the draft cites.
type Citation struct {
	N           int      `json:"n"`
	ChunkID     int64    `json:"chunk_id"`
	DocumentID  int64    `json:"document_id"`
	Title       string   `json:"title"`
	Source      string   `json:"source"`
	HeadingPath []string `json:"heading_path,omitempty"`
	Start       int      `json:"start"`
	End         int      `json:"end"`
	Text        string   `json:"text"`
}

// Draft statuses.
const (
	DraftReady     = "ready"      // model draft that passed every check
	DraftFlagReply = "flag_reply" // the county's configured reply for a red flag
	DraftWithheld  = "withheld"   // not shown; Withheld says why
)

// Withheld reasons.
const (
	WithheldInvalidOutput = "model_output_invalid"
	WithheldEmpty         = "empty_reply"
	WithheldNoCitation    = "no_citation"
	WithheldBadCitation   = "unknown_citation"
	WithheldDose          = "dose_not_in_sources"
	WithheldNoPassages    = "no_passages"
	WithheldLanguage      = "wrong_language"
)

// WithheldReason says why a draft is not shown.
type WithheldReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Draft is the proposed reply.
type Draft struct {
	Status    string          `json:"status"`
	Lang      string          `json:"lang"`
	Text      string          `json:"text,omitempty"`
	Citations []Citation      `json:"citations"`
	Withheld  *WithheldReason `json:"withheld,omitempty"`
}

// Note is the short structured note for the record (ISBAR order). The
// model writes Situation to Recommendation; the rest is filled by code.
type Note struct {
	Situation      string   `json:"situation"`
	Background     string   `json:"background"`
	Assessment     string   `json:"assessment"`
	Recommendation string   `json:"recommendation"`
	Urgency        string   `json:"urgency"`
	RedFlags       []string `json:"red_flags"`
	Denied         []string `json:"denied"`
	Medicines      []string `json:"medicines"`
}

// MedicationRisk is the risk engine's view of the medicines in the thread:
// for the nurse only, never written into the reply.
type MedicationRisk struct {
	KBVersion string          `json:"kb_version"`
	Drugs     []MentionedDrug `json:"drugs"`
	Flags     []risk.Flag     `json:"flags"`
	Notes     []risk.Note     `json:"notes"`
}

// Suggestion is the answer for one conversation.
type Suggestion struct {
	// ID is the suggestion's audit record (the nurse's decision relates to
	// it); 0 when auditing is disabled.
	ID             int64              `json:"id"`
	Urgency        Urgency            `json:"urgency"`
	RedFlags       []RedFlag          `json:"red_flags"`
	Denied         []Denied           `json:"denied"`
	Draft          Draft              `json:"draft"`
	Note           Note               `json:"note"`
	MedicationRisk *MedicationRisk    `json:"medication_risk,omitempty"`
	Passages       []Citation         `json:"passages"`
	Model          record.Model       `json:"model"`
	ModelCall      int64              `json:"model_call"` // audit record of the model call
	Template       record.TemplateRef `json:"template"`
	RulesVersion   string             `json:"rules_version"`
	Scale          Scale              `json:"scale"`
	// ReplyTo is the id of the patient message the draft answers (the last
	// patient message), for FHIR Communication.inResponseTo.
	ReplyTo   string    `json:"reply_to,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// modelAnswer is the JSON the template asks for.
type modelAnswer struct {
	Urgency string `json:"urgency"`
	Reasons []struct {
		Text  string `json:"text"`
		Quote string `json:"quote"`
	} `json:"reasons"`
	Reply     string `json:"reply"`
	Citations []int  `json:"citations"`
	Note      struct {
		Situation      string `json:"situation"`
		Background     string `json:"background"`
		Assessment     string `json:"assessment"`
		Recommendation string `json:"recommendation"`
	} `json:"note"`
}

// Assist makes a suggestion for one conversation: red flags, instruction
// passages, one audited model call, the safety checks, and the
// suggestion's own audit record, written before the suggestion is
// returned. Errors: invalid, too_large for bad input; not_found for an
// unknown collection; unavailable when the audit log cannot be written
// (nothing is returned); the model's errors (busy, unavailable, timeout…).
func (s *Service) Assist(ctx context.Context, req Request) (Suggestion, error) {
	if err := req.validate(s.cfg.Limits); err != nil {
		return Suggestion{}, err
	}
	sg, call, err := s.prepare(ctx, req)
	if err != nil {
		return Suggestion{}, err
	}
	res, err := s.d.Model.Generate(ctx, call)
	if err != nil {
		return Suggestion{}, err
	}
	s.finish(&sg, req, res)
	return sg, s.record(ctx, &sg, req)
}

// prepare runs everything before the model call: rules, medicines,
// retrieval, prompt. It is separated so the benchmark can time the
// pipeline without the model.
func (s *Service) prepare(ctx context.Context, req Request) (Suggestion, record.Call, error) {
	sg := Suggestion{CreatedAt: s.d.Now().UTC(), Scale: s.cfg.Scale, Template: s.tmpl.Ref(),
		RulesVersion: s.d.Rules.Version(), RedFlags: []RedFlag{}, Denied: []Denied{}, Passages: []Citation{}}
	// Red flags on the patient's messages only.
	var msgs []redflags.Message
	var idx []int
	for i, m := range req.Conversation {
		if m.Author == AuthorPatient {
			msgs = append(msgs, redflags.Message{Text: m.Text})
			idx = append(idx, i)
			sg.ReplyTo = m.ID
		}
	}
	rf := s.d.Rules.Detect(msgs)
	span := func(sp redflags.Span) Span {
		mi := idx[sp.Message]
		r := []rune(req.Conversation[mi].Text)
		return Span{Message: mi, Start: sp.Start, End: sp.End, Text: string(r[sp.Start:sp.End])}
	}
	for _, f := range rf.Findings {
		rfl := RedFlag{Rule: f.Rule, Flag: f.Flag, Urgency: f.Urgency, Title: f.Title, Sources: f.Sources}
		for _, ev := range f.Evidence {
			rfl.Evidence = append(rfl.Evidence, span(ev))
		}
		sg.RedFlags = append(sg.RedFlags, rfl)
	}
	for _, e := range rf.Excluded {
		sg.Denied = append(sg.Denied, Denied{Concept: e.Concept, Cue: e.Cue, Span: span(e.Span)})
	}
	lang := req.Lang
	if lang == "" {
		lang = majority(rf.Langs, s.cfg.DefaultLang)
	}
	sg.Draft = Draft{Lang: lang, Citations: []Citation{}}
	if rf.Urgency != "" {
		sg.Urgency.Minimum = s.cfg.Scale[s.cfg.Scale.ForCanonical(rf.Urgency)].ID
	}

	// Medicines: named in any message of the thread, or listed as FHIR
	// MedicationStatements; with conditions, age and sex for the rules.
	var drugs []MentionedDrug
	seen := map[string]bool{}
	for i, m := range req.Conversation {
		for _, d := range s.drugs.find(m.Text) {
			if !seen[d.ATC] {
				seen[d.ATC] = true
				d.Message = &i
				drugs = append(drugs, d)
			}
		}
	}
	in := risk.Input{}
	if p := req.Patient; p != nil {
		for _, d := range statementDrugs(p.Medications, s.drugs) {
			if !seen[d.ATC] {
				seen[d.ATC] = true
				drugs = append(drugs, d)
			}
		}
		in.Patient.Age = p.Age
		if p.Sex == "female" || p.Sex == "male" {
			in.Patient.Sex = p.Sex
		}
		in.Patient.Conditions = conditionCodes(p.Conditions)
	}
	if len(drugs) > 0 {
		for _, d := range drugs {
			in.Drugs = append(in.Drugs, risk.DrugInput{ATC: d.ATC, Name: d.Name})
		}
		if len(in.Drugs) > risk.MaxDrugs {
			in.Drugs = in.Drugs[:risk.MaxDrugs]
		}
		res, err := risk.Assess(s.d.KB, in)
		if err != nil {
			return sg, record.Call{}, err
		}
		sg.MedicationRisk = &MedicationRisk{KBVersion: res.KBVersion, Drugs: drugs, Flags: res.Flags, Notes: res.Notes}
		if sg.MedicationRisk.Flags == nil {
			sg.MedicationRisk.Flags = []risk.Flag{}
		}
	}

	// Instruction passages for the patient's words.
	var q strings.Builder
	for _, m := range msgs {
		q.WriteString(m.Text)
		q.WriteByte('\n')
	}
	qt := []rune(strings.TrimSpace(q.String()))
	if len(qt) > 2000 {
		qt = qt[len(qt)-2000:] // the latest words matter most
	}
	hits, err := s.d.Search.Search(ctx, retrieval.Query{Collection: req.Collection, Text: string(qt), K: s.cfg.Passages})
	if err != nil {
		return sg, record.Call{}, err
	}
	for i, h := range hits.Results {
		sg.Passages = append(sg.Passages, Citation{N: i + 1, ChunkID: h.ChunkID, DocumentID: h.DocumentID, Title: h.Title,
			Source: h.Source, HeadingPath: h.HeadingPath, Start: h.Start, End: h.End, Text: h.Text})
	}

	prompt, err := s.render(sg, req, lang, rf)
	if err != nil {
		return sg, record.Call{}, err
	}
	call := record.Call{Task: assist.TaskClinic, Template: s.tmpl.Ref(), Priority: assist.PriorityInteractive,
		Patient: req.Subject, Prompt: prompt, Format: "json",
		Options: map[string]any{"num_ctx": s.cfg.NumCtx, "num_predict": s.cfg.NumPredict, "temperature": 0},
		Attrs:   map[string]string{"rules_version": rf.Version, "red_flags": strconv.Itoa(len(rf.Findings)), "lang": lang}}
	return sg, call, nil
}

var langNames = map[string]string{"fi": "Finnish", "sv": "Swedish", "en": "English"}

func (s *Service) render(sg Suggestion, req Request, lang string, rf redflags.Result) (string, error) {
	type lvl struct{ ID, Label string }
	type psg struct {
		N                    int
		Title, Heading, Text string
	}
	type msg struct{ Author, Text string }
	data := struct {
		LangName string
		Levels   []lvl
		RedFlags []string
		MinLevel string
		Denied   []string
		Passages []psg
		Patient  string
		Messages []msg
	}{LangName: langNames[lang], MinLevel: sg.Urgency.Minimum}
	for _, l := range s.cfg.Scale {
		data.Levels = append(data.Levels, lvl{l.ID, l.Label.EN})
	}
	for _, f := range sg.RedFlags {
		data.RedFlags = append(data.RedFlags, f.Title.EN)
	}
	for _, d := range sg.Denied {
		data.Denied = append(data.Denied, d.Concept)
	}
	for _, p := range sg.Passages {
		data.Passages = append(data.Passages, psg{p.N, p.Title, strings.Join(p.HeadingPath, " / "), p.Text})
	}
	if p := req.Patient; p != nil {
		var parts []string
		if p.Age != nil {
			parts = append(parts, fmt.Sprintf("age %d", *p.Age))
		}
		if p.Sex != "" {
			parts = append(parts, p.Sex)
		}
		if cs := conditionCodes(p.Conditions); len(cs) > 0 {
			parts = append(parts, "conditions (ICD-10) "+strings.Join(cs, ", "))
		}
		data.Patient = strings.Join(parts, "; ")
	}
	for _, m := range req.Conversation {
		data.Messages = append(data.Messages, msg{string(m.Author), m.Text})
	}
	return s.tmpl.Render(data)
}

// finish applies the model's answer under the safety rules.
func (s *Service) finish(sg *Suggestion, req Request, res record.Result) {
	sg.Model, sg.ModelCall = res.Model, res.Seq
	var ans modelAnswer
	parseErr := json.Unmarshal([]byte(strings.TrimSpace(res.Text)), &ans)

	// Urgency: the red flags' minimum, raised (never lowered) by the model.
	sc := s.cfg.Scale
	u := &sg.Urgency
	for _, f := range sg.RedFlags {
		u.Reasons = append(u.Reasons, Reason{From: "red_flag", Rule: f.Rule, Text: f.Title.In(sg.Draft.Lang), Spans: f.Evidence})
	}
	final := -1
	if u.Minimum != "" {
		final, u.Basis = sc.Index(u.Minimum), "red_flag"
	}
	if parseErr == nil {
		if mi := sc.Index(ans.Urgency); mi >= 0 {
			u.Model = ans.Urgency
			switch {
			case final < 0:
				final, u.Basis = mi, "model"
			case mi < final:
				final, u.Basis = mi, "red_flag+model"
			}
			for _, r := range ans.Reasons {
				if sp, ok := locate(req.Conversation, r.Quote); ok && strings.TrimSpace(r.Text) != "" {
					u.Reasons = append(u.Reasons, Reason{From: "model", Text: r.Text, Spans: []Span{sp}})
				}
			}
		}
	}
	if final < 0 {
		final, u.Basis = sc.ForCanonical(redflags.FewDays), "default"
	}
	if u.Reasons == nil {
		u.Reasons = []Reason{}
	}
	lv := sc[final]
	u.Level, u.Label, u.Canonical = lv.ID, lv.Label, lv.Canonical

	// Draft.
	d := &sg.Draft
	switch {
	case len(sg.RedFlags) > 0:
		worst := redflags.SelfCare
		for _, f := range sg.RedFlags {
			worst = redflags.MoreUrgent(worst, f.Urgency)
		}
		d.Status = DraftFlagReply
		if worst == redflags.Emergency {
			d.Text = s.cfg.EmergencyReply.In(d.Lang)
		} else {
			d.Text = s.cfg.UrgentReply.In(d.Lang)
		}
	case parseErr != nil:
		d.withhold(WithheldInvalidOutput, "the model's answer was not the expected JSON object")
	default:
		s.checkDraft(d, ans, sg.Passages)
	}

	// Note: the model's ISBAR fields and the facts from code.
	n := &sg.Note
	if parseErr == nil {
		n.Situation, n.Background, n.Assessment, n.Recommendation = ans.Note.Situation, ans.Note.Background, ans.Note.Assessment, ans.Note.Recommendation
	}
	n.Urgency = lv.Label.In(sg.Draft.Lang)
	n.RedFlags, n.Denied, n.Medicines = []string{}, []string{}, []string{}
	for _, f := range sg.RedFlags {
		n.RedFlags = append(n.RedFlags, f.Title.In(sg.Draft.Lang))
	}
	for _, dn := range sg.Denied {
		n.Denied = append(n.Denied, dn.Concept+" ("+dn.Cue+")")
	}
	if mr := sg.MedicationRisk; mr != nil {
		for _, dr := range mr.Drugs {
			n.Medicines = append(n.Medicines, dr.Name+" ("+dr.ATC+")")
		}
	}
}

func (d *Draft) withhold(code, msg string) {
	d.Status, d.Text, d.Citations = DraftWithheld, "", []Citation{}
	d.Withheld = &WithheldReason{Code: code, Message: msg}
}

// checkDraft keeps the model's reply only when it is not empty, cites at
// least one retrieved passage (by the citations list or [n] markers), cites
// nothing else, and every dose it states appears in a cited passage.
func (s *Service) checkDraft(d *Draft, ans modelAnswer, passages []Citation) {
	text := strings.TrimSpace(ans.Reply)
	if text == "" {
		d.withhold(WithheldEmpty, "the model wrote no reply")
		return
	}
	if len(passages) == 0 {
		d.withhold(WithheldNoPassages, "no instruction passage was found to ground a reply")
		return
	}
	cited := map[int]bool{}
	for _, n := range ans.Citations {
		cited[n] = true
	}
	for _, n := range citationMarkers(text) {
		cited[n] = true
	}
	if len(cited) == 0 {
		d.withhold(WithheldNoCitation, "the reply cites no instruction passage")
		return
	}
	var cites []Citation
	for n := range cited {
		if n < 1 || n > len(passages) {
			d.withhold(WithheldBadCitation, fmt.Sprintf("the reply cites passage [%d], which was not retrieved", n))
			return
		}
	}
	for _, p := range passages {
		if cited[p.N] {
			cites = append(cites, p)
		}
	}
	if l := redflags.Lang(text); l != "" && l != d.Lang {
		d.withhold(WithheldLanguage, "the reply is not in the patient's language ("+d.Lang+")")
		return
	}
	if dose, ok := uncitedDose(text, cites); !ok {
		d.withhold(WithheldDose, "the reply states a dose ("+dose+") that the cited instructions do not contain")
		return
	}
	d.Status, d.Text, d.Citations = DraftReady, text, cites
}

func majority(langs []string, def string) string {
	n := map[string]int{}
	best, bestN := def, 0
	for _, l := range langs {
		if l == "" {
			continue
		}
		n[l]++
		if n[l] > bestN {
			best, bestN = l, n[l]
		}
	}
	return best
}

// locate finds quote in the conversation (case-insensitive) and returns
// its span.
func locate(conv []Message, quote string) (Span, bool) {
	q := []rune(strings.ToLower(strings.TrimSpace(quote)))
	if len(q) < 3 {
		return Span{}, false
	}
	for i, m := range conv {
		t := []rune(strings.ToLower(m.Text))
		for j := 0; j+len(q) <= len(t); j++ {
			if string(t[j:j+len(q)]) == string(q) {
				orig := []rune(m.Text)
				return Span{Message: i, Start: j, End: j + len(q), Text: string(orig[j : j+len(q)])}, true
			}
		}
	}
	return Span{}, false
}

// record writes the suggestion's audit record and sets sg.ID.
func (s *Service) record(ctx context.Context, sg *Suggestion, req Request) error {
	in, _ := json.Marshal(req)
	out, _ := json.Marshal(sg)
	sources := make([]string, 0, len(sg.Passages))
	for _, p := range sg.Passages {
		sources = append(sources, "chunk:"+strconv.FormatInt(p.ChunkID, 10))
	}
	flags := make([]string, 0, len(sg.RedFlags))
	for _, f := range sg.RedFlags {
		flags = append(flags, f.Flag)
	}
	e := record.Entry{Event: audit.Event{Kind: audit.KindClinicSuggestion, Task: assist.TaskClinic, Patient: req.Subject,
		Model: sg.Model.Name, ModelDigest: sg.Model.Digest, TemplateID: sg.Template.ID, TemplateVersion: sg.Template.Version,
		Input: in, Output: out, Sources: sources, RelatesTo: sg.ModelCall, Outcome: audit.OutcomeOK,
		Attrs: map[string]string{"rules_version": sg.RulesVersion, "urgency": sg.Urgency.Level, "urgency_basis": sg.Urgency.Basis,
			"red_flags": strings.Join(flags, ","), "draft": sg.Draft.Status}}}
	if sg.Draft.Withheld != nil {
		e.Attrs["withheld"] = sg.Draft.Withheld.Code
	}
	if sg.Draft.Text != "" {
		e.Attrs["draft_sha256"] = draftHash(sg.Draft.Text)
	}
	if sg.MedicationRisk != nil {
		e.Attrs["kb_version"] = sg.MedicationRisk.KBVersion
		e.Attrs["medication_flags"] = strconv.Itoa(len(sg.MedicationRisk.Flags))
	}
	seq, err := s.d.Audit.Commit(ctx, e)
	if err != nil {
		return err
	}
	sg.ID = seq
	return nil
}
