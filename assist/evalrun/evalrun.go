// Package evalrun prepares evaluation runs for the CLI (assist eval run)
// and the gateway (POST /v1/evals/runs): it picks a suite's executor —
// the audited model call pinned to the model's digest, the retrieval
// service on a collection of the suite's own, or a rule engine — and
// resolves the digest the hosts serve under a model name. Runs started in
// the gateway share its host pool and yield to people's requests.
package evalrun

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/clinic"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/summary"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/assist/summary/summaryeval"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/risk"
)

// Deps are what executors need. Retrieval may be nil when no retrieval
// suite is run; Rec and Pool when no model suite is.
type Deps struct {
	Pool *models.Pool
	Rec  *record.Recorder
	// NewRetrieval returns a retrieval service embedding with model.
	NewRetrieval func(model string) (*retrieval.Service, error)
	// DataDir holds the large datasets; DataDirHint names its setting in
	// the error for a missing one.
	DataDir, DataDirHint string
}

// Prepared is a suite ready to run.
type Prepared struct {
	Suite    *suite.Suite
	Cases    []evals.Case
	Model    runner.Model
	Executor runner.Executor
}

// Prepare loads the suite's cases and builds its executor for model
// (ignored by rule-engine suites). Errors: invalid (no model given),
// not_found (no host serves it), conflict (hosts serve different digests).
func Prepare(ctx context.Context, d Deps, s *suite.Suite, model string) (Prepared, error) {
	const op = "evalrun.Prepare"
	cases, err := s.LoadCases(d.DataDir, d.DataDirHint)
	if err != nil {
		return Prepared{}, err
	}
	p := Prepared{Suite: s, Cases: cases}
	switch s.Task {
	case suite.TaskRiskAssess:
		kb, err := risk.DefaultKB()
		if err != nil {
			return Prepared{}, err
		}
		p.Model, p.Executor = runner.Model{Name: "risk-engine", Digest: kb.Version()}, &runner.RiskExecutor{KB: kb}
		return p, nil
	case suite.TaskClinicTriage:
		rules, err := redflags.Default()
		if err != nil {
			return Prepared{}, err
		}
		p.Model, p.Executor = runner.Model{Name: "clinic-red-flag-rules", Digest: rules.Version()}, &clinic.TriageExecutor{Rules: rules}
		return p, nil
	}
	if model == "" {
		return Prepared{}, assist.E(assist.KindInvalid, op, "give a model: suite "+s.Name+" evaluates a model")
	}
	if d.Pool == nil {
		return Prepared{}, assist.E(assist.KindUnavailable, op, "no model hosts are configured")
	}
	if p.Model, err = ResolveModel(d.Pool, model); err != nil {
		return Prepared{}, err
	}
	if s.Task == suite.TaskClinicAssist {
		if d.Rec == nil {
			return Prepared{}, assist.E(assist.KindUnavailable, op, "no model call is configured")
		}
		if p.Executor, err = clinicExecutor(d.Rec, p.Model); err != nil {
			return Prepared{}, err
		}
		return p, nil
	}
	if s.Task == suite.TaskVisitNote {
		if d.Rec == nil {
			return Prepared{}, assist.E(assist.KindUnavailable, op, "no model call is configured")
		}
		if p.Executor, err = visitNoteExecutor(s, d.Rec, p.Model); err != nil {
			return Prepared{}, err
		}
		return p, nil
	}
	if s.Task == suite.TaskRetrieval {
		if d.NewRetrieval == nil {
			return Prepared{}, assist.E(assist.KindUnavailable, op, "retrieval is not configured")
		}
		rs, err := d.NewRetrieval(p.Model.Name)
		if err != nil {
			return Prepared{}, err
		}
		coll := Collection(s, p.Model)
		if err := ingestDocs(ctx, rs, s, coll, p.Model.Name); err != nil {
			return Prepared{}, err
		}
		p.Executor = &runner.RetrievalExecutor{Suite: s, Retriever: &retriever{svc: rs, collection: coll, model: p.Model.Name}}
		return p, nil
	}
	if d.Rec == nil {
		return Prepared{}, assist.E(assist.KindUnavailable, op, "no model call is configured")
	}
	p.Executor = &runner.TextExecutor{Suite: s, Gen: Generator{Rec: d.Rec, Digest: p.Model.Digest}, Model: p.Model.Name}
	return p, nil
}

// ResolveModel finds the digest the healthy hosts serve under name; hosts
// that disagree are a conflict (a run must measure one release).
func ResolveModel(pool *models.Pool, name string) (runner.Model, error) {
	want := models.NormaliseModel(name)
	digests := map[string][]string{}
	for _, h := range pool.Stats().Hosts {
		if !h.Up {
			continue
		}
		for _, m := range h.Models {
			if m.Name == want {
				digests[m.Digest] = append(digests[m.Digest], h.Name)
			}
		}
	}
	switch len(digests) {
	case 0:
		return runner.Model{}, assist.E(assist.KindNotFound, "evalrun.ResolveModel", "no healthy host serves the model "+want)
	case 1:
		for d := range digests {
			return runner.Model{Name: want, Digest: d}, nil
		}
	}
	var parts []string
	for d, hs := range digests {
		parts = append(parts, fmt.Sprintf("%s on %s", short(d), strings.Join(hs, ",")))
	}
	slices.Sort(parts)
	return runner.Model{}, assist.E(assist.KindConflict, "evalrun.ResolveModel", "the hosts serve different releases of "+want+": "+strings.Join(parts, "; "))
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// Generator runs an evaluation's calls through the audited model call,
// pinned to the run's model digest.
type Generator struct {
	Rec    *record.Recorder
	Digest string
}

// Generate implements runner.Generator.
func (g Generator) Generate(ctx context.Context, req runner.GenRequest) (runner.GenResult, error) {
	id, ver, _ := strings.Cut(req.Template, "@")
	res, err := g.Rec.Generate(ctx, record.Call{
		Task: req.Task, Template: record.TemplateRef{ID: id, Version: ver}, Priority: req.Priority,
		Model: &record.Model{Name: req.Model, Digest: g.Digest}, System: req.System, Prompt: req.Prompt,
		Options: req.Options, Attrs: req.Attrs,
	})
	if err != nil {
		return runner.GenResult{}, err
	}
	return runner.GenResult{Text: res.Text, Model: runner.Model{Name: res.Model.Name, Digest: res.Model.Digest}, Host: res.Host,
		PromptTokens: res.PromptTokens, OutputTokens: res.OutputTokens, AuditSeq: res.Seq}, nil
}

// Collection names the retrieval collection of a suite run with a model
// release, so another model never mixes into its vectors.
func Collection(s *suite.Suite, m runner.Model) string {
	return "eval-" + s.Name + "-" + short(m.Digest)
}

type retriever struct {
	svc        *retrieval.Service
	collection string
	model      string
}

func (r *retriever) Retrieve(ctx context.Context, q string, k int) ([]string, runner.Model, error) {
	hits, err := r.svc.Search(ctx, retrieval.Query{Collection: r.collection, Text: q, K: 4 * k, Model: r.model})
	if err != nil {
		return nil, runner.Model{}, err
	}
	var out []string
	for _, h := range hits.Results {
		if len(out) == k {
			break
		}
		if !slices.Contains(out, h.Source) {
			out = append(out, h.Source)
		}
	}
	return out, runner.Model{Name: hits.Model.Name, Digest: hits.Model.Digest}, nil
}

func ingestDocs(ctx context.Context, svc *retrieval.Service, s *suite.Suite, collection, model string) error {
	docs, err := s.DocumentsFS()
	if err != nil {
		return err
	}
	return fs.WalkDir(docs, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(docs, p)
		if err != nil {
			return err
		}
		_, err = svc.Ingest(ctx, retrieval.IngestRequest{Collection: collection, Source: path.Base(p), Data: data, Model: model})
		return err
	})
}

// visitNoteExecutor runs a visit_note suite through the summary task
// against model m (each call audited, at batch priority), with the
// grounding checker; the suite's options num_ctx and num_predict set the
// context the transcript must fit (longer ones are map-reduced).
func visitNoteExecutor(s *suite.Suite, rec *record.Recorder, m runner.Model) (runner.Executor, error) {
	kb, err := risk.DefaultKB()
	if err != nil {
		return nil, err
	}
	o := summary.Options{Priority: assist.PriorityBatch, Model: &record.Model{Name: m.Name, Digest: m.Digest}}
	if n, ok := s.Options["num_ctx"].(uint64); ok {
		o.NumCtx = int(n)
	}
	if n, ok := s.Options["num_predict"].(uint64); ok {
		o.NumPredict = int(n)
	}
	svc := &summary.Service{Models: rec, Templates: summary.DefaultTemplates(), Grounder: summary.CheckerGrounder{Checker: grounding.New(kb)}, Options: o}
	return &summaryeval.Executor{Suite: s, Service: svc}, nil
}

// clinicExecutor runs the digital clinic pipeline (default configuration,
// no instruction passages) with model m: its calls go through the audited
// call pinned to m's release, at batch priority, and each suggestion is
// recorded as in the gateway.
func clinicExecutor(rec *record.Recorder, m runner.Model) (runner.Executor, error) {
	rules, err := redflags.Default()
	if err != nil {
		return nil, err
	}
	kb, err := risk.DefaultKB()
	if err != nil {
		return nil, err
	}
	svc, err := clinic.New(clinic.Config{}, clinic.Deps{Rules: rules, KB: kb, Search: clinic.NoInstructions{},
		Model: pinnedModel{rec: rec, model: record.Model{Name: m.Name, Digest: m.Digest}}, Audit: rec})
	if err != nil {
		return nil, err
	}
	return &clinic.ModelTriageExecutor{Svc: svc}, nil
}

// pinnedModel makes the clinic's model calls with the evaluated release at
// batch priority.
type pinnedModel struct {
	rec   *record.Recorder
	model record.Model
}

func (p pinnedModel) Generate(ctx context.Context, c record.Call) (record.Result, error) {
	c.Model, c.Priority = &p.model, assist.PriorityBatch
	return p.rec.Generate(ctx, c)
}
