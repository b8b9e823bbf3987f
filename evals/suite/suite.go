package suite

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/goccy/go-yaml"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
)

// Executor kinds a suite's task can name.
const (
	TaskTranslation = "translation"
	TaskRiskAssess  = "risk_assess"
	TaskRetrieval   = "retrieval"
	// TaskClinicTriage runs the digital clinic's red-flag rules (no model)
	// over triage cases: the urgency a nurse would assign, the red flags.
	TaskClinicTriage = "clinic_triage"
	// TaskVisitNote drafts notes from doctor–patient dialogues with the
	// summary task's own prompts (assist/summary), scored with ROUGE
	// against the reference notes, citation coverage and the grounding
	// checker's unsupported-sentence rate.
	TaskVisitNote = "visit_note"
	// TaskClinicAssist runs the clinic triage cases through the whole
	// clinic pipeline with the model under evaluation (its own prompt).
	TaskClinicAssist = "clinic_assist"
)

// Suite is one evaluation suite, as read from its YAML file.
type Suite struct {
	Name        string         `yaml:"name" json:"name"`
	Version     int            `yaml:"version" json:"version"`
	Task        string         `yaml:"task" json:"task"`
	Qualifies   assist.Task    `yaml:"qualifies" json:"qualifies,omitempty"`
	Description string         `yaml:"description" json:"description,omitempty"`
	Dataset     Dataset        `yaml:"dataset" json:"dataset"`
	Prompt      Prompt         `yaml:"prompt" json:"prompt"`
	Options     map[string]any `yaml:"options" json:"options,omitempty"`
	Metrics     []string       `yaml:"metrics" json:"metrics"`
	Thresholds  []Threshold    `yaml:"thresholds" json:"thresholds,omitempty"`
	Gates       []Gate         `yaml:"gates" json:"gates,omitempty"`
	MaxErrors   int            `yaml:"max_errors" json:"max_errors"`
	Concurrency int            `yaml:"concurrency" json:"concurrency,omitempty"`
	// K is the cut-off of retrieval metrics (recall@K); default 5.
	K int `yaml:"k" json:"k,omitempty"`
	// Documents is the folder of a retrieval suite's documents, relative
	// to the suite file.
	Documents string `yaml:"documents" json:"documents,omitempty"`
	// NoteTemplate and Lang are a visit_note suite's note template (default
	// soap) and language (default en).
	NoteTemplate string `yaml:"note_template" json:"note_template,omitempty"`
	Lang         string `yaml:"lang" json:"lang,omitempty"`

	// Hash is the SHA-256 of the suite file's bytes.
	Hash string `yaml:"-" json:"hash"`
	// DatasetHash is the SHA-256 of the cases as loaded (canonical JSON
	// lines), so the same data in another file layout hashes alike.
	DatasetHash string `yaml:"-" json:"dataset_hash"`

	dir  fs.FS  // where the suite file is
	base string // its directory inside dir
	tmpl *template.Template
}

// Dataset says where a suite's cases are and how to read them.
type Dataset struct {
	Path   string `yaml:"path" json:"path"`
	Format string `yaml:"format" json:"format,omitempty"`
	Source string `yaml:"source" json:"source,omitempty"`
	Target string `yaml:"target" json:"target,omitempty"`
	Limit  int    `yaml:"limit" json:"limit,omitempty"`
}

// Prompt is a suite's prompt template; its id and version go into every
// result and audit record.
type Prompt struct {
	ID       string `yaml:"id" json:"id,omitempty"`
	Version  string `yaml:"version" json:"version,omitempty"`
	System   string `yaml:"system" json:"system,omitempty"`
	Template string `yaml:"template" json:"template,omitempty"`
}

// Ref is "id@version".
func (p Prompt) Ref() string {
	if p.ID == "" {
		return ""
	}
	return p.ID + "@" + p.Version
}

// Threshold is a pass condition on a metric's mean over the cases.
type Threshold struct {
	Metric string   `yaml:"metric" json:"metric"`
	Min    *float64 `yaml:"min" json:"min,omitempty"`
	Max    *float64 `yaml:"max" json:"max,omitempty"`
}

// Gate is a regression gate between two runs: a candidate fails when
// its mean is worse than the baseline's by more than MaxDrop (in the
// metric's own units, in its bad direction) and the paired test finds
// the difference significant (p < 0.05).
type Gate struct {
	Metric  string  `yaml:"metric" json:"metric"`
	MaxDrop float64 `yaml:"max_drop" json:"max_drop"`
}

// Primary is the first metric.
func (s *Suite) Primary() string { return s.Metrics[0] }

// NeedsModel reports whether the suite's task calls a model.
func (s *Suite) NeedsModel() bool { return s.Task != TaskRiskAssess && s.Task != TaskClinicTriage }

// DocumentsFS returns the retrieval documents folder.
func (s *Suite) DocumentsFS() (fs.FS, error) {
	if s.Documents == "" {
		return nil, assist.Errorf(assist.KindInvalid, "suite %s has no documents folder", s.Name)
	}
	return fs.Sub(s.dir, path.Join(s.base, s.Documents))
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// Render fills the prompt template with a case's input fields.
func (s *Suite) Render(c evals.Case) (string, error) {
	if s.tmpl == nil {
		return "", assist.Errorf(assist.KindInvalid, "suite %s has no prompt template", s.Name)
	}
	var in map[string]any
	if err := json.Unmarshal(c.Input, &in); err != nil {
		return "", fmt.Errorf("case %q: input: %w", c.ID, err)
	}
	var b strings.Builder
	if err := s.tmpl.Execute(&b, in); err != nil {
		return "", fmt.Errorf("case %q: prompt template: %w", c.ID, err)
	}
	return b.String(), nil
}

//go:embed builtin
var builtinFS embed.FS

// Builtin lists the names of the embedded suites.
func Builtin() []string {
	ents, _ := fs.ReadDir(builtinFS, "builtin")
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	return out
}

// Open reads a suite by built-in name or by path to its YAML file.
func Open(nameOrPath string) (*Suite, error) {
	if slices.Contains(Builtin(), nameOrPath) {
		return Read(builtinFS, "builtin/"+nameOrPath+".yaml")
	}
	if !strings.HasSuffix(nameOrPath, ".yaml") && !strings.HasSuffix(nameOrPath, ".yml") {
		return nil, assist.Errorf(assist.KindNotFound, "no built-in suite %q (built in: %s) and not a .yaml path", nameOrPath, strings.Join(Builtin(), ", "))
	}
	abs, err := filepath.Abs(nameOrPath)
	if err != nil {
		return nil, err
	}
	return Read(os.DirFS(filepath.Dir(abs)), filepath.Base(abs))
}

// Read reads and validates the suite file name in fsys.
func Read(fsys fs.FS, name string) (*Suite, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, assist.E(assist.KindNotFound, "suite.Read", "suite file not found: "+name, err)
	}
	s := &Suite{dir: fsys, base: path.Dir(name)}
	if err := yaml.UnmarshalWithOptions(raw, s, yaml.Strict()); err != nil {
		return nil, assist.E(assist.KindInvalid, "suite.Read", name+": "+yaml.FormatError(err, false, false))
	}
	sum := sha256.Sum256(raw)
	s.Hash = hex.EncodeToString(sum[:])
	if err := s.validate(); err != nil {
		return nil, assist.E(assist.KindInvalid, "suite.Read", name+": "+err.Error())
	}
	return s, nil
}

// ReleaseTasks are the gateway tasks a model release can be approved for.
var ReleaseTasks = []assist.Task{
	assist.TaskSummary, "background_summary", assist.TaskInterpret, "transcription",
	assist.TaskRiskSummary, assist.TaskEmbed, assist.TaskChat, assist.TaskClinic,
}

// Metric directions: true when a higher value is better.
var metricHigherBetter = map[string]bool{
	"chrf": true, "chrf++": true, "bleu": true, "ter": false,
	"rouge1": true, "rouge2": true, "rougeL": true, "rougeLsum": true,
	"wer": false, "cer": false, "exact": true,
	"precision": true, "recall": true, "f1": true,
	"recall@k": true, "mrr": true,
	"safe": true, "emergency_missed": false, "over_triage": false, "under_triage": false, "flag_recall": true, "denied_flag_raised": false,
	"rouge1_ascii": true, "rouge2_ascii": true, "rougeL_ascii": true,
	"citation_coverage": true, "unsupported_rate": false,
}

// HigherBetter reports a metric's direction and whether it is known.
func HigherBetter(metric string) (bool, bool) {
	hb, ok := metricHigherBetter[metric]
	return hb, ok
}

// caseTasks maps a suite task to the task of its cases where they differ:
// the clinic's model suite reads the triage cases.
var caseTasks = map[string]string{TaskClinicAssist: TaskClinicTriage}

// taskMetrics are the metrics each executor can compute.
var taskMetrics = map[string][]string{
	TaskTranslation:  {"chrf", "chrf++", "bleu", "ter", "rouge1", "rouge2", "rougeL", "rougeLsum", "exact"},
	TaskRiskAssess:   {"precision", "recall", "f1"},
	TaskRetrieval:    {"recall@k", "mrr"},
	TaskClinicTriage: {"exact", "safe", "emergency_missed", "over_triage", "under_triage", "flag_recall", "denied_flag_raised"},
	TaskClinicAssist: {"exact", "safe", "emergency_missed", "over_triage", "under_triage", "flag_recall", "denied_flag_raised"},
	TaskVisitNote: {"rouge1", "rouge2", "rougeL", "rouge1_ascii", "rouge2_ascii", "rougeL_ascii",
		"citation_coverage", "unsupported_rate"},
}

func (s *Suite) validate() error {
	var probs []error
	bad := func(format string, a ...any) { probs = append(probs, fmt.Errorf(format, a...)) }
	if !nameRe.MatchString(s.Name) {
		bad("name %q must be lower case letters, digits, '.', '_' or '-'", s.Name)
	}
	if s.Version < 1 {
		bad("version must be ≥ 1")
	}
	known, ok := taskMetrics[s.Task]
	if !ok {
		bad("task %q unknown (want translation, risk_assess, retrieval, clinic_triage, clinic_assist or visit_note)", s.Task)
	}
	if len(s.Metrics) == 0 {
		bad("metrics: at least one")
	}
	for _, m := range s.Metrics {
		if ok && !slices.Contains(known, m) {
			bad("metric %q not available for task %s (want one of %s)", m, s.Task, strings.Join(known, ", "))
		}
	}
	for _, t := range s.Thresholds {
		if !slices.Contains(s.Metrics, t.Metric) {
			bad("threshold on %q, which is not in metrics", t.Metric)
		}
		if t.Min == nil && t.Max == nil {
			bad("threshold on %q has neither min nor max", t.Metric)
		}
	}
	for _, g := range s.Gates {
		if !slices.Contains(s.Metrics, g.Metric) {
			bad("gate on %q, which is not in metrics", g.Metric)
		}
		if g.MaxDrop < 0 {
			bad("gate on %q: max_drop must be ≥ 0", g.Metric)
		}
	}
	switch s.Dataset.Format {
	case "", "cases":
		s.Dataset.Format = "cases"
	case "parallel":
		if s.Dataset.Source == "" || s.Dataset.Target == "" {
			bad("dataset: format parallel needs source and target languages")
		}
	case "dialogues":
		if s.Task != TaskVisitNote {
			bad("dataset: format dialogues is for task visit_note")
		}
	default:
		bad("dataset: format %q unknown (want cases, parallel or dialogues)", s.Dataset.Format)
	}
	if s.Dataset.Path == "" {
		bad("dataset: path is required")
	}
	if s.Dataset.Limit < 0 {
		bad("dataset: limit must be ≥ 0")
	}
	if s.Qualifies != "" && !slices.Contains(ReleaseTasks, s.Qualifies) {
		bad("qualifies %q is not a model task (want one of %v)", s.Qualifies, ReleaseTasks)
	}
	if s.NeedsModel() && s.Task != TaskRetrieval && s.Task != TaskVisitNote && s.Task != TaskClinicAssist && s.Prompt.Template == "" {
		bad("prompt: template is required for task %s", s.Task)
	}
	if s.Prompt.Template != "" {
		if s.Prompt.ID == "" || s.Prompt.Version == "" {
			bad("prompt: id and version are required (they are recorded with every result)")
		}
		t, err := template.New(s.Name).Option("missingkey=error").Funcs(template.FuncMap{"lang": LanguageName}).Parse(s.Prompt.Template)
		if err != nil {
			bad("prompt: template: %v", err)
		}
		s.tmpl = t
	}
	if s.Concurrency < 0 || s.Concurrency > 64 {
		bad("concurrency must be 0–64")
	}
	if s.MaxErrors < 0 {
		bad("max_errors must be ≥ 0")
	}
	if s.Task == TaskRetrieval && s.Documents == "" {
		bad("documents: a retrieval suite needs its documents folder")
	}
	if s.K == 0 {
		s.K = 5
	}
	return errors.Join(probs...)
}

// dataPrefix marks a dataset path under the data directory.
const dataPrefix = "data:"

// LoadCases reads the suite's dataset. A path starting with "data:" is
// read from dataDir (the configured directory of large datasets); when
// dataDir is empty or the file is missing the error says which setting
// to give (hint). It sets DatasetHash.
func (s *Suite) LoadCases(dataDir, hint string) ([]evals.Case, error) {
	const op = "suite.LoadCases"
	var (
		raw []byte
		err error
	)
	if rel, ok := strings.CutPrefix(s.Dataset.Path, dataPrefix); ok {
		if dataDir == "" {
			return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("suite %s reads %s from the evaluation data directory, which is not set: give %s", s.Name, rel, hint))
		}
		raw, err = os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, assist.E(assist.KindNotFound, op, fmt.Sprintf("suite %s: dataset %s not found in the evaluation data directory %s (set %s)", s.Name, rel, dataDir, hint), err)
		}
	} else {
		raw, err = fs.ReadFile(s.dir, path.Join(s.base, s.Dataset.Path))
		if err != nil {
			return nil, assist.E(assist.KindNotFound, op, fmt.Sprintf("suite %s: dataset %s not found beside the suite file", s.Name, s.Dataset.Path), err)
		}
	}
	var cases []evals.Case
	switch s.Dataset.Format {
	case "parallel":
		cases, err = parallelCases(raw, s.Dataset.Source, s.Dataset.Target, s.Task)
	case "dialogues":
		cases, err = dialogueCases(raw, s.Task)
	default:
		cases, err = evals.Load(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("suite %s: dataset %s: %v", s.Name, s.Dataset.Path, err))
	}
	want := s.Task
	if t, ok := caseTasks[s.Task]; ok {
		want = t
	}
	cases = evals.FilterTask(cases, want)
	if s.Dataset.Limit > 0 && len(cases) > s.Dataset.Limit {
		cases = cases[:s.Dataset.Limit]
	}
	if len(cases) == 0 {
		return nil, assist.E(assist.KindInvalid, op, fmt.Sprintf("suite %s: the dataset has no %s cases", s.Name, want))
	}
	s.DatasetHash = HashCases(cases)
	return cases, nil
}

// HashCases is the SHA-256 of the cases as canonical JSON lines (id,
// task, input, expected, tags), hex.
func HashCases(cases []evals.Case) string {
	h := sha256.New()
	for _, c := range cases {
		var in, exp bytes.Buffer
		_ = json.Compact(&in, c.Input)
		_ = json.Compact(&exp, c.Expected)
		line, _ := json.Marshal(struct {
			ID       string          `json:"id"`
			Task     string          `json:"task"`
			Input    json.RawMessage `json:"input"`
			Expected json.RawMessage `json:"expected"`
			Tags     []string        `json:"tags,omitempty"`
		}{c.ID, c.Task, in.Bytes(), exp.Bytes(), c.Tags})
		h.Write(line)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// parallelCases turns aligned records ({"id", "<lang>": text, ...}) into
// translation cases from source to target; records missing either side
// are left out.
func parallelCases(raw []byte, src, tgt, task string) ([]evals.Case, error) {
	var out []evals.Case
	for i, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		id, _ := rec["id"].(string)
		s, _ := rec[src].(string)
		t, _ := rec[tgt].(string)
		if id == "" || s == "" || t == "" {
			continue
		}
		in, _ := json.Marshal(map[string]string{"text": s, "source_lang": src, "target_lang": tgt})
		exp, _ := json.Marshal(map[string]string{"text": t})
		tag := strings.SplitN(id, "-", 2)[0]
		out = append(out, evals.Case{ID: id, Task: task, Input: in, Expected: exp, Tags: []string{tag}, Line: i + 1})
	}
	return out, nil
}

// dialogueCases turns doctor–patient dialogue records into visit-note
// cases: MTS-Dialog ({"id", "dialogue", "section_header", "section_text"};
// the reference is one section) and ACI-Bench ({"id", "dialogue", "note",
// "subset"}; the reference is the whole note). The input keeps the
// dialogue as written; expected.text is the reference.
func dialogueCases(raw []byte, task string) ([]evals.Case, error) {
	var out []evals.Case
	for i, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var rec struct {
			ID, Dialogue, Note, Subset string
			SectionHeader              string `json:"section_header"`
			SectionText                string `json:"section_text"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		ref, kind, tag := rec.Note, "note", rec.Subset
		if rec.SectionText != "" {
			ref, kind, tag = rec.SectionText, "section", rec.SectionHeader
		}
		if rec.ID == "" || rec.Dialogue == "" || ref == "" {
			continue
		}
		in, _ := json.Marshal(map[string]string{"dialogue": rec.Dialogue, "kind": kind, "section_header": rec.SectionHeader})
		exp, _ := json.Marshal(map[string]string{"text": ref})
		c := evals.Case{ID: rec.ID, Task: task, Input: in, Expected: exp, Line: i + 1}
		if tag != "" {
			c.Tags = []string{tag}
		}
		out = append(out, c)
	}
	return out, nil
}

var languageNames = map[string]string{
	"en": "English", "fi": "Finnish", "sv": "Swedish", "ar": "Arabic", "so": "Somali",
	"ru": "Russian", "uk": "Ukrainian", "et": "Estonian", "fa": "Persian", "ku": "Kurdish",
}

// LanguageName is the English name of an ISO 639-1 code (the code itself
// when unknown); prompt templates call it as {{lang .source_lang}}.
func LanguageName(code any) string {
	c, _ := code.(string)
	if n, ok := languageNames[c]; ok {
		return n
	}
	return c
}
