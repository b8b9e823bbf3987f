package summary

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/record"
)

// Audit event kinds of the summary task (audit kinds need no registry).
const (
	// KindTaskStart is recorded before the first model call of a draft;
	// every model call of the draft relates to it.
	KindTaskStart audit.EventKind = "summary.start"
	// KindTaskFailed closes a task that released no draft (the client went
	// away, a model call or the audit log failed); it relates to the start.
	KindTaskFailed audit.EventKind = "summary.failed"
	// KindReviewed is a clinician's review; it relates to the draft's record.
	KindReviewed = audit.KindReview
)

// Models makes the task's audited model calls: *record.Recorder.
type Models interface {
	Generate(ctx context.Context, c record.Call) (record.Result, error)
	Stream(ctx context.Context, c record.Call, emit func(text string) error) (record.Result, error)
	Commit(ctx context.Context, e record.Entry) (int64, error)
}

var _ Models = (*record.Recorder)(nil)

// Grounder checks draft sentences against the sources they cite (the
// grounding checker). It is deterministic and makes no model call.
type Grounder interface {
	Check(lang string, sources []Turn, sentences []Sentence) []Verdict
}

// Verdict is the grounding checker's answer for one sentence.
type Verdict struct {
	Supported bool   `json:"supported"`
	Flags     []Flag `json:"flags,omitempty"`
}

// Flag is one reason a sentence (or the draft) needs the reviewer's eye.
// Message and Evidence may quote the transcript: they are shown to the
// clinician and stored with the draft, never logged.
type Flag struct {
	Type     string `json:"type"`
	Message  string `json:"message,omitempty"`
	Evidence string `json:"evidence,omitempty"`
	// Sources are the ids the evidence comes from.
	Sources []string `json:"sources,omitempty"`
}

// Flag types set by this package (the grounding checker adds its own).
const (
	FlagUnknownCitation = "unknown_citation" // the model cited an id that is not a source; dropped
	FlagNoCitation      = "no_citation"      // the sentence cites nothing
	FlagUnknownSection  = "unknown_section"  // the model wrote a section the template does not have; dropped
	FlagUnparsable      = "unparsable"       // the model's answer was not the JSON asked for
	FlagNotChecked      = "not_checked"      // no grounding checker is configured
	FlagIncomplete      = "incomplete"       // the model's streamed answer broke off
)

// Sentence is one sentence of a draft with the sources it cites.
type Sentence struct {
	ID        string   `json:"id"`
	Text      string   `json:"text"`
	Cites     []string `json:"cites"`
	Supported bool     `json:"supported"`
	Flags     []Flag   `json:"flags,omitempty"`
}

// DraftSection is one filled section of a draft.
type DraftSection struct {
	Key       string     `json:"key"`
	Title     string     `json:"title"`
	Code      Coding     `json:"code"`
	Sentences []Sentence `json:"sentences"`
}

// ModelRef is the model release that wrote a draft.
type ModelRef struct {
	Name   string `json:"name"`
	Digest string `json:"digest,omitempty"`
}

// Draft is a draft note (or background summary), ready for review.
type Draft struct {
	ID       int64              `json:"id,omitempty"`
	Kind     string             `json:"kind"`
	Template record.TemplateRef `json:"-"`
	// TemplateID and TemplateVersion name the template used.
	TemplateID      string         `json:"template"`
	TemplateVersion string         `json:"template_version"`
	Title           string         `json:"title"`
	DocumentType    Coding         `json:"document_type"`
	Lang            string         `json:"lang"`
	Sections        []DraftSection `json:"sections"`
	Flags           []Flag         `json:"flags,omitempty"`
	Model           ModelRef       `json:"model"`
	// AuditSeq is the draft's audit record; TaskSeq the task's start record.
	AuditSeq int64     `json:"audit_seq,omitempty"`
	TaskSeq  int64     `json:"task_seq,omitempty"`
	Segments int       `json:"segments"`
	Calls    int       `json:"model_calls"`
	Created  time.Time `json:"created"`
	// Facts are the background summary's deterministic facts (background only).
	Facts []DraftSection `json:"facts,omitempty"`
	// Skipped lists FHIR resources that were not used.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Sentences returns every sentence in order.
func (d *Draft) Sentences() []Sentence {
	var out []Sentence
	for _, s := range d.Sections {
		out = append(out, s.Sentences...)
	}
	return out
}

// Text is the draft as plain text: section titles and sentences.
func (d *Draft) Text() string {
	var b strings.Builder
	for _, s := range d.Sections {
		if len(s.Sentences) == 0 {
			continue
		}
		var parts []string
		for _, x := range s.Sentences {
			if x.Text != "" {
				parts = append(parts, x.Text)
			}
		}
		if len(parts) == 0 {
			continue
		}
		b.WriteString(s.Title)
		b.WriteString("\n")
		b.WriteString(strings.Join(parts, " "))
		b.WriteString("\n\n")
	}
	return strings.TrimSpace(b.String())
}

// Event is one Server-Sent Event of a streamed draft: "start",
// "progress" (a map step finished), "section" (a section filled),
// "done" (the whole draft, after its audit record is durable).
type Event struct {
	Name string
	Data any
}

// Keeper keeps drafts and their reviews (*Store). SaveDraft returns the
// draft's id; Get returns not_found for a draft the caller may not see;
// SaveReview returns conflict for a draft reviewed already. Other errors:
// unavailable.
type Keeper interface {
	SaveDraft(ctx context.Context, d *Draft, sources []Turn) (int64, error)
	Get(ctx context.Context, id int64) (*Stored, error)
	SaveReview(ctx context.Context, rv *Review) error
}

// Options tune the service.
type Options struct {
	// NumCtx is the model's context window in tokens (num_ctx); a
	// transcript whose prompt does not fit is map-reduced. Default 8192.
	NumCtx int
	// NumPredict bounds each answer in tokens (num_predict); default 1024.
	NumPredict int
	// MaxParallel bounds concurrent map steps; default 4.
	MaxParallel int
	Limits      Limits
	Priority    assist.Priority
	// Model, when set, is the model release every call uses instead of the
	// one resolved for the task (an evaluation of a candidate).
	Model *record.Model
	Now   func() time.Time
}

func (o Options) withDefaults() Options {
	if o.NumCtx <= 0 {
		o.NumCtx = 8192
	}
	if o.NumPredict <= 0 {
		o.NumPredict = 1024
	}
	if o.MaxParallel <= 0 {
		o.MaxParallel = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// Service writes drafts.
type Service struct {
	Models    Models
	Templates *Templates
	Grounder  Grounder // nil: sentences are flagged not_checked
	Store     Keeper   // nil: drafts are not kept (and cannot be reviewed)
	Options   Options
}

// job is one draft in progress.
type job struct {
	s       *Service
	o       Options
	tmpl    *Template
	lang    string
	patient string
	sources []Turn // clear text, for checking and storage
	hidden  []Turn // pseudonymised, for the model
	ids     map[string]bool
	ps      *pseudonyms
	taskSeq int64
	emit    func(Event) error
	calls   int
	model   ModelRef
	flags   []Flag
	// released: the draft's record is written (a later failure to store
	// it is not a failed task).
	released bool
}

// Prepare validates a request without calling a model: the template, the
// language, the sources and the FHIR context. Errors: invalid, too_large.
func (s *Service) Prepare(req *Request) (*Template, []Turn, *fhirRecord, error) {
	if err := validLang(req.Lang); err != nil {
		return nil, nil, nil, err
	}
	if req.Template == "" {
		return nil, nil, nil, invalid("no template named; known: %s", strings.Join(s.Templates.names(KindVisit), ", "))
	}
	tmpl, err := s.Templates.Get(req.Template, KindVisit)
	if err != nil {
		return nil, nil, nil, err
	}
	fr, err := readFHIR(req.Context)
	if err != nil {
		return nil, nil, nil, err
	}
	sources, err := req.sources(s.Options.Limits, fr.turns("Patient", "Condition", "MedicationStatement", "MedicationRequest", "AllergyIntolerance"))
	if err != nil {
		return nil, nil, nil, err
	}
	return tmpl, sources, fr, nil
}

// Draft writes a draft note for req. emit, when not nil, receives the
// stream events; an error from it (the client went away) stops the work.
// The draft is released only after its audit record is durable.
// Errors: invalid and too_large for bad input (nothing is recorded or
// stored), and those of the model calls and the audit log.
func (s *Service) Draft(ctx context.Context, req *Request, emit func(Event) error) (*Draft, error) {
	tmpl, sources, fr, err := s.Prepare(req)
	if err != nil {
		return nil, err
	}
	j := s.newJob(tmpl, req.Lang, sources, append(append([]string{}, req.Names...), fr.names()...), req.Patient, emit)
	d, err := j.run(ctx, req.Stream)
	if err == nil {
		d.Skipped = fr.Skipped
		err = j.finish(ctx, d)
	}
	if err != nil {
		return nil, j.failed(ctx, err)
	}
	return d, nil
}

// failed records that a started task released no draft (best effort,
// even when the client has gone away) and returns err.
func (j *job) failed(ctx context.Context, err error) error {
	if j.taskSeq == 0 || j.released {
		return err
	}
	outcome := audit.OutcomeError
	if assist.KindOf(err) == assist.KindCanceled {
		outcome = audit.OutcomeCanceled
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = j.s.Models.Commit(actx, record.Entry{Event: audit.Event{Kind: KindTaskFailed, Task: assist.TaskSummary, Patient: j.patient,
		TemplateID: j.tmpl.ID, TemplateVersion: j.tmpl.Version, RelatesTo: j.taskSeq, Outcome: outcome, ErrorKind: assist.KindOf(err),
		Attrs: map[string]string{"calls": itoa(j.calls)}}})
	return err
}

func (s *Service) newJob(tmpl *Template, lang string, sources []Turn, names []string, patient string, emit func(Event) error) *job {
	o := s.Options.withDefaults()
	ps := newPseudonyms(sources, names)
	if patient == "" {
		for _, t := range sources {
			if codes := audit.FindHETU(t.Text); len(codes) > 0 {
				patient = codes[0]
				break
			}
		}
	}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	ids := make(map[string]bool, len(sources))
	for _, t := range sources {
		ids[t.ID] = true
	}
	return &job{s: s, o: o, tmpl: tmpl, lang: lang, patient: patient, sources: sources, hidden: ps.hideTurns(sources),
		ids: ids, ps: ps, emit: emit}
}

// run makes the model calls and builds the draft (not yet recorded).
func (j *job) run(ctx context.Context, stream bool) (*Draft, error) {
	in, _ := json.Marshal(j.hidden)
	seq, err := j.s.Models.Commit(ctx, record.Entry{Event: audit.Event{Kind: KindTaskStart, Task: assist.TaskSummary,
		Patient: j.patient, TemplateID: j.tmpl.ID, TemplateVersion: j.tmpl.Version, Input: in, Outcome: "started",
		Attrs: map[string]string{"lang": j.lang, "sources": itoa(len(j.sources)), "prompt": PromptVersion}}})
	if err != nil {
		return nil, err
	}
	j.taskSeq = seq
	segs, err := j.segments(j.hidden)
	if err != nil {
		return nil, err
	}
	if err := j.emit(Event{Name: "start", Data: map[string]any{"template": j.tmpl.ID, "template_version": j.tmpl.Version,
		"sections": j.sectionHeads(), "segments": len(segs), "task_seq": seq}}); err != nil {
		return nil, assist.E(assist.KindCanceled, "summary.Draft", err)
	}
	d := j.newDraft(len(segs))
	var raw []rawSection
	if len(segs) == 1 {
		data := newPromptData(j.tmpl, j.lang)
		data.Sources = segs[0]
		raw, err = j.call(ctx, data, map[string]string{"step": "note"}, stream, d)
	} else {
		raw, err = j.mapReduce(ctx, segs, stream, d)
	}
	if err != nil {
		return nil, err
	}
	for _, key := range j.fill(d, raw) {
		if !stream {
			continue
		}
		for _, sec := range d.Sections {
			if sec.Key == key {
				if err := j.emit(Event{Name: "section", Data: sec}); err != nil {
					return nil, assist.E(assist.KindCanceled, "summary.Draft", err)
				}
			}
		}
	}
	return d, nil
}

func (j *job) sectionHeads() []map[string]string {
	out := make([]map[string]string, 0, len(j.tmpl.Sections))
	for _, s := range j.tmpl.Sections {
		out = append(out, map[string]string{"key": s.Key, "title": s.Title.In(j.lang)})
	}
	return out
}

func (j *job) newDraft(segments int) *Draft {
	d := &Draft{Kind: j.tmpl.Kind, Template: j.tmpl.Ref(), TemplateID: j.tmpl.ID, TemplateVersion: j.tmpl.Version,
		Title: j.tmpl.Title.In(j.lang), DocumentType: j.tmpl.DocumentType, Lang: j.lang, Segments: segments, Created: j.o.Now().UTC()}
	for _, s := range j.tmpl.Sections {
		d.Sections = append(d.Sections, DraftSection{Key: s.Key, Title: s.Title.In(j.lang), Code: s.Code, Sentences: []Sentence{}})
	}
	return d
}

// call makes one audited model call and parses its answer. With stream,
// sections are filled into d and emitted as they complete.
func (j *job) call(ctx context.Context, data promptData, attrs map[string]string, stream bool, d *Draft) ([]rawSection, error) {
	system, prompt := render(data)
	attrs["prompt"] = PromptVersion
	attrs["note_template"] = j.tmpl.ID + "@" + j.tmpl.Version
	c := record.Call{Task: assist.TaskSummary, Template: notePrompt.Ref(), Priority: j.o.Priority, Patient: j.patient,
		Model: j.o.Model, RelatesTo: j.taskSeq, System: system, Prompt: prompt, Format: "json",
		Options: map[string]any{"num_ctx": j.o.NumCtx, "num_predict": j.o.NumPredict, "temperature": 0}, Attrs: attrs}
	var (
		res record.Result
		err error
	)
	j.calls++
	if stream {
		var p streamParser
		res, err = j.s.Models.Stream(ctx, c, func(text string) error {
			done := p.add(text)
			if len(done) == 0 {
				return nil
			}
			for _, key := range j.fill(d, done) {
				for _, sec := range d.Sections {
					if sec.Key == key {
						if err := j.emit(Event{Name: "section", Data: sec}); err != nil {
							return assist.E(assist.KindCanceled, "summary.stream", err)
						}
					}
				}
			}
			return nil
		})
		if err != nil && assist.KindOf(err) == assist.KindUpstream && p.buf.Len() > 0 {
			// The host broke off an answer it had started (Ollama ends a
			// JSON-mode answer that runs into endless white space this
			// way): keep the sections completed before the break, and say so.
			j.flags = append(j.flags, Flag{Type: FlagIncomplete, Message: "the model's answer ended early; sections after the break are empty"})
			err = nil
		}
		if err == nil {
			res.Text = p.buf.String()
		}
	} else {
		res, err = j.s.Models.Generate(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	j.model = ModelRef{Name: res.Model.Name, Digest: res.Model.Digest}
	raw, ok := parseAnswer(res.Text)
	if !ok {
		j.flags = append(j.flags, Flag{Type: FlagUnparsable, Message: "the model's answer (" + attrs["step"] + ") was not a JSON object"})
	}
	return raw, nil
}

// fill puts raw sections into d: citations validated, placeholders
// restored, every sentence checked. It returns the keys of the sections
// it changed. Sections already filled are not filled again.
func (j *job) fill(d *Draft, raw []rawSection) []string {
	var changed []string
	for _, rs := range raw {
		i := j.sectionIndex(rs.Key)
		if i < 0 {
			if rs.Key != "" && len(rs.Sentences) > 0 && !hasFlag(d.Flags, FlagUnknownSection, rs.Key) {
				d.Flags = append(d.Flags, Flag{Type: FlagUnknownSection, Message: "the model wrote a section the template does not have; it was left out", Evidence: rs.Key})
			}
			continue
		}
		sec := &d.Sections[i]
		if len(sec.Sentences) > 0 || len(rs.Sentences) == 0 {
			continue
		}
		for _, r := range rs.Sentences {
			sec.Sentences = append(sec.Sentences, j.sentence(r))
		}
		j.check(sec.Sentences)
		changed = append(changed, sec.Key)
	}
	d.Flags = appendNew(d.Flags, j.flags...)
	j.number(d)
	return changed
}

func hasFlag(fs []Flag, typ, evidence string) bool {
	for _, f := range fs {
		if f.Type == typ && f.Evidence == evidence {
			return true
		}
	}
	return false
}

// appendNew adds the flags fs does not have yet (same type, message and
// evidence).
func appendNew(fs []Flag, more ...Flag) []Flag {
	for _, f := range more {
		dup := false
		for _, g := range fs {
			if g.Type == f.Type && g.Message == f.Message && g.Evidence == f.Evidence {
				dup = true
				break
			}
		}
		if !dup {
			fs = append(fs, f)
		}
	}
	return fs
}

// number gives the sentences ids s1, s2, … in document order.
func (j *job) number(d *Draft) {
	n := 0
	for i := range d.Sections {
		for k := range d.Sections[i].Sentences {
			n++
			d.Sections[i].Sentences[k].ID = "s" + itoa(n)
		}
	}
}

func (j *job) sectionIndex(key string) int {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(s)))
	}
	k := norm(key)
	for i, s := range j.tmpl.Sections {
		if s.Key == k {
			return i
		}
	}
	for i, s := range j.tmpl.Sections {
		for _, t := range s.Title {
			if norm(t) == k {
				return i
			}
		}
	}
	return -1
}

// sentence validates a model sentence's citations and restores its
// placeholders.
func (j *job) sentence(r rawSentence) Sentence {
	s := Sentence{Text: j.ps.reveal(strings.TrimSpace(r.Text)), Cites: []string{}}
	seen := map[string]bool{}
	for _, c := range r.Cites {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		if !j.ids[c] {
			s.Flags = append(s.Flags, Flag{Type: FlagUnknownCitation, Message: "the model cited a source that does not exist; the citation was dropped", Evidence: c})
			continue
		}
		s.Cites = append(s.Cites, c)
	}
	return s
}

// check runs the grounding checker over sentences (in place).
func (j *job) check(ss []Sentence) {
	if j.s.Grounder == nil {
		for i := range ss {
			ss[i].Flags = append(ss[i].Flags, Flag{Type: FlagNotChecked, Message: "no grounding checker is configured"})
		}
		return
	}
	vs := j.s.Grounder.Check(j.lang, j.sources, ss)
	for i := range ss {
		if i >= len(vs) {
			break
		}
		ss[i].Supported = vs[i].Supported && !hasType(ss[i].Flags, FlagUnknownCitation)
		ss[i].Flags = append(ss[i].Flags, vs[i].Flags...)
	}
}

func hasType(fs []Flag, typ string) bool {
	for _, f := range fs {
		if f.Type == typ {
			return true
		}
	}
	return false
}

// finish records the draft and keeps it, then emits "done". The draft
// is released (returned, emitted) only after its record is durable.
func (j *job) finish(ctx context.Context, d *Draft) error {
	d.Model, d.Calls, d.TaskSeq = j.model, j.calls, j.taskSeq
	out, err := json.Marshal(d)
	if err != nil {
		return assist.E(assist.KindInternal, "summary.finish", err)
	}
	flagged := 0
	for _, s := range d.Sentences() {
		if !s.Supported {
			flagged++
		}
	}
	seq, err := j.s.Models.Commit(ctx, record.Entry{Event: audit.Event{Kind: audit.KindAIOutput, Task: assist.TaskSummary,
		Patient: j.patient, Model: d.Model.Name, ModelDigest: d.Model.Digest, TemplateID: j.tmpl.ID, TemplateVersion: j.tmpl.Version,
		Output: out, RelatesTo: j.taskSeq, Outcome: audit.OutcomeOK,
		Attrs: map[string]string{"step": "draft", "kind": d.Kind, "sentences": itoa(len(d.Sentences())), "unsupported": itoa(flagged),
			"segments": itoa(d.Segments), "calls": itoa(d.Calls)}}})
	if err != nil {
		return err
	}
	d.AuditSeq = seq
	j.released = true
	if j.s.Store != nil {
		id, err := j.s.Store.SaveDraft(ctx, d, j.sources)
		if err != nil {
			return err
		}
		d.ID = id
	}
	if err := j.emit(Event{Name: "done", Data: d}); err != nil && !errors.Is(err, context.Canceled) {
		return assist.E(assist.KindCanceled, "summary.finish", err)
	}
	return nil
}
