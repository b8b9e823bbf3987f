package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/evals/suite"
)

// GenRequest is one model call of an evaluation.
type GenRequest struct {
	Task     assist.Task // the task the suite qualifies a model for
	Model    string
	System   string
	Prompt   string
	Template string // prompt template "id@version"
	Options  map[string]any
	Priority assist.Priority
	Attrs    map[string]string
}

// GenResult is a model call's answer.
type GenResult struct {
	Text         string
	Model        Model
	Host         string
	PromptTokens int
	OutputTokens int
	AuditSeq     int64 // audit record of the call, when audited
}

// Generator makes one model call. Kinds: unavailable/busy/timeout when no
// host could answer, upstream for a host error.
type Generator interface {
	Generate(ctx context.Context, req GenRequest) (GenResult, error)
}

// TextExecutor runs generation suites (translation): the case input fills
// the prompt template, the model answers at batch priority, and the
// answer is scored against expected.text with the suite's metrics.
type TextExecutor struct {
	Suite *suite.Suite
	Gen   Generator
	Model string
}

// Execute implements Executor.
func (e *TextExecutor) Execute(ctx context.Context, c evals.Case) (Outcome, error) {
	prompt, err := e.Suite.Render(c)
	if err != nil {
		return Outcome{}, assist.E(assist.KindInvalid, "runner.TextExecutor", err.Error())
	}
	var exp struct {
		Text string `json:"text"`
	}
	if err := c.DecodeExpected(&exp); err != nil || exp.Text == "" {
		return Outcome{}, assist.E(assist.KindInvalid, "runner.TextExecutor", fmt.Sprintf("case %q: expected.text is required", c.ID))
	}
	var in struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(c.Input, &in)
	task := e.Suite.Qualifies
	if task == "" {
		task = assist.TaskEval
	}
	g, err := e.Gen.Generate(ctx, GenRequest{
		Task: task, Model: e.Model, System: e.Suite.Prompt.System, Prompt: prompt, Template: e.Suite.Prompt.Ref(),
		Options: e.Suite.Options, Priority: assist.PriorityBatch,
		Attrs: map[string]string{"eval.suite": e.Suite.Name, "eval.case": c.ID},
	})
	if err != nil {
		return Outcome{}, err
	}
	hyp := strings.TrimSpace(g.Text)
	sc := map[string]float64{}
	for _, m := range e.Suite.Metrics {
		v, err := TextScore(m, hyp, exp.Text)
		if err != nil {
			return Outcome{}, assist.E(assist.KindInvalid, "runner.TextExecutor", err.Error())
		}
		sc[m] = v
	}
	input := in.Text
	if input == "" {
		input = prompt
	}
	return Outcome{
		Input: input, Expected: exp.Text, Output: hyp, Scores: sc, Host: g.Host, ModelDigest: g.Model.Digest,
		PromptTokens: g.PromptTokens, OutputTokens: g.OutputTokens, AuditSeq: g.AuditSeq,
	}, nil
}

// TextScore scores one hypothesis against one reference, 0–100: sentence
// chrF (chrf), chrF++ (chrf++), sentence BLEU with effective order (bleu),
// TER ×100 (ter, lower is better), ROUGE F-measure ×100 with the Unicode
// tokenizer (rouge1, rouge2, rougeL, rougeLsum), 100 or 0 for an exact
// match after trimming (exact).
func TextScore(metric, hyp, ref string) (float64, error) {
	refs := []string{ref}
	switch metric {
	case "chrf":
		return evals.SentenceChrF(hyp, refs, evals.DefaultChrF())
	case "chrf++":
		o := evals.DefaultChrF()
		o.WordOrder = 2
		return evals.SentenceChrF(hyp, refs, o)
	case "bleu":
		return evals.SentenceBLEU(hyp, refs, evals.DefaultSentenceBLEU())
	case "ter":
		v, err := evals.CorpusTER([]string{hyp}, [][]string{refs}, evals.TEROptions{})
		return 100 * v, err
	case "rouge1", "rouge2", "rougeL", "rougeLsum":
		s, err := evals.RougeWith(metric, ref, hyp, evals.RougeOptions{Unicode: true})
		return 100 * s.FMeasure, err
	case "exact":
		if strings.TrimSpace(hyp) == strings.TrimSpace(ref) {
			return 100, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unknown text metric %q", metric)
}

// Retriever answers a retrieval question with source ids in rank order.
type Retriever interface {
	Retrieve(ctx context.Context, question string, k int) (sources []string, m Model, err error)
}

// RetrievalExecutor runs retrieval suites: input.question is searched,
// expected.sources lists the documents that answer it; recall@k is the
// share of them in the first k results, mrr the reciprocal rank of the
// first one (0 when none is in the first k).
type RetrievalExecutor struct {
	Suite     *suite.Suite
	Retriever Retriever
}

// Execute implements Executor.
func (e *RetrievalExecutor) Execute(ctx context.Context, c evals.Case) (Outcome, error) {
	var in struct {
		Question string `json:"question"`
	}
	var exp struct {
		Sources []string `json:"sources"`
	}
	if err := c.DecodeInput(&in); err != nil || in.Question == "" {
		return Outcome{}, assist.E(assist.KindInvalid, "runner.RetrievalExecutor", fmt.Sprintf("case %q: input.question is required", c.ID))
	}
	if err := c.DecodeExpected(&exp); err != nil || len(exp.Sources) == 0 {
		return Outcome{}, assist.E(assist.KindInvalid, "runner.RetrievalExecutor", fmt.Sprintf("case %q: expected.sources is required", c.ID))
	}
	got, m, err := e.Retriever.Retrieve(ctx, in.Question, e.Suite.K)
	if err != nil {
		return Outcome{}, err
	}
	recall, mrr := RankScores(got, exp.Sources, e.Suite.K)
	return Outcome{
		Input: in.Question, Expected: strings.Join(exp.Sources, ", "), Output: strings.Join(got, ", "),
		Scores: map[string]float64{"recall@k": recall, "mrr": mrr}, ModelDigest: m.Digest,
	}, nil
}

// RankScores is recall@k and the reciprocal rank of the first relevant
// item within the first k of ranked (0 when none).
func RankScores(ranked, relevant []string, k int) (recall, mrr float64) {
	if len(ranked) > k {
		ranked = ranked[:k]
	}
	rel := map[string]bool{}
	for _, r := range relevant {
		rel[r] = true
	}
	hit := map[string]bool{}
	for i, r := range ranked {
		if rel[r] {
			if mrr == 0 {
				mrr = 1 / float64(i+1)
			}
			hit[r] = true
		}
	}
	return float64(len(hit)) / float64(len(rel)), mrr
}
