package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/evalrun"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/evals/report"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/models/releases"
	"github.com/soteai/gateway/retrieval"
	retrievalstore "github.com/soteai/gateway/retrieval/pgstore"
)

// newEvalCmd is "assist eval": run suites against models on the county's
// own hosts, list and compare runs, write reports.
func newEvalCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "eval", Short: "Evaluation suites: run against a model, list, compare, report"}
	cmd.AddCommand(newEvalSuitesCmd(), newEvalRunCmd(e), newEvalListCmd(e), newEvalShowCmd(e), newEvalCompareCmd(e))
	return cmd
}

func newEvalSuitesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "suites",
		Short: "List the built-in suites",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SUITE\tTASK\tQUALIFIES\tMETRICS\tDATASET")
			for _, n := range suite.Builtin() {
				s, err := suite.Open(n)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Task, s.Qualifies, strings.Join(s.Metrics, ","), s.Dataset.Path)
			}
			return tw.Flush()
		},
	}
}

// evalEnv is what running a suite needs, opened from --config.
type evalEnv struct {
	cfg   *config.Config
	db    *pgxpool.Pool
	store *pgstore.Store
	pool  *models.Pool
	svc   *ollama.Service
	rec   *record.Recorder
	log   *audit.Log
	actor assist.Actor
}

func (v *evalEnv) close() {
	if v.log != nil {
		_ = v.log.Close()
	}
	if v.pool != nil {
		v.pool.Close()
	}
	if v.db != nil {
		v.db.Close()
	}
}

func cliActor() assist.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return assist.Actor{TokenID: "cli:" + name, Name: "assist CLI (" + name + ")", Role: assist.RoleRiskReviewer}
}

// openEval opens the database, and with hosts the host pool and the
// audited model call (audit log as configured).
func (e *env) openEval(ctx context.Context, withModels bool) (*evalEnv, error) {
	environ := e.environ
	if e.databaseURL != "" {
		environ = append(append([]string(nil), environ...), "ASSIST_DATABASE_URL="+e.databaseURL)
	}
	cfg, err := config.Load(e.configPath, environ)
	if err != nil {
		return nil, err
	}
	v := &evalEnv{cfg: cfg, actor: cliActor()}
	if v.db, err = e.open(ctx); err != nil {
		return nil, err
	}
	v.store = pgstore.New(v.db)
	if !withModels {
		return v, nil
	}
	oc := ollama.NewClient(ollama.HTTPOptions{DialTimeout: cfg.Limits.UpstreamDialTimeout, ResponseHeaderTimeout: cfg.Limits.UpstreamHeaderTimeout})
	v.pool = models.NewPool(cfg.PoolHosts(), oc, cfg.PoolOptions(), slog.New(slog.DiscardHandler))
	v.pool.Start(ctx)
	v.pool.CheckNow(ctx)
	v.svc = &ollama.Service{Pool: v.pool, Client: oc}
	deps := record.Deps{Models: record.Ollama{Svc: v.svc}, Resolver: cfg.TaskModels()}
	if cfg.AuditEnabled() {
		opts, err := cfg.AuditOptions(nil)
		if err != nil {
			v.close()
			return nil, err
		}
		opts.CheckpointEvery, opts.PurgeEvery = -1, -1
		if v.log, err = audit.Open(ctx, v.db, opts); err != nil {
			v.close()
			return nil, fmt.Errorf("audit log: %w", err)
		}
		deps.Log = v.log
	}
	v.rec = record.New(deps)
	return v, nil
}

func newEvalRunCmd(e *env) *cobra.Command {
	var (
		model, dataDir, reportPath string
		fresh, asJSON              bool
		concurrency                int
	)
	cmd := &cobra.Command{
		Use:   "run SUITE --model NAME",
		Short: "Run a suite (built-in name or path to its YAML file) against a model on the configured hosts",
		Long: `run executes every case of SUITE against --model through the host pool at batch
priority (interactive work goes first), each model call audited, and stores each
case's result in the database as it finishes. An interrupted run (Ctrl-C, a crash)
continues where it stopped when the same command runs again (--fresh starts over).
It prints the summary (means with 95% bootstrap intervals, latency p50/p95,
tokens/s) and exits non-zero when a threshold of the suite fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := suite.Open(args[0])
			if err != nil {
				return err
			}
			v, err := e.openEval(ctx, s.NeedsModel())
			if err != nil {
				return err
			}
			defer v.close()
			if dataDir == "" {
				dataDir = v.cfg.Evals.DataDir
			}
			deps := evalrun.Deps{Pool: v.pool, Rec: v.rec, DataDir: dataDir, DataDirHint: "--data-dir, evals.data_dir or ASSIST_EVALS_DATA_DIR",
				NewRetrieval: func(model string) (*retrieval.Service, error) {
					return retrieval.New(retrieval.Config{Store: retrievalstore.New(v.db), Embedder: v.svc, DefaultModel: model})
				}}
			prep, err := evalrun.Prepare(ctx, deps, s, model)
			if err != nil {
				return err
			}
			cases, m, ex := prep.Cases, prep.Model, prep.Executor
			r := &runner.Runner{Store: v.store, Concurrency: concurrency}
			run, resumed, err := r.Start(ctx, s, cases, m, fresh, v.actor.TokenID)
			if err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			verb := "started"
			if resumed {
				verb = "resumed"
			}
			fmt.Fprintf(errOut, "%s run %s: suite %s, %s (%s), %d cases\n", verb, run.ID, s.Name, m.Name, shortDigest(m.Digest), len(cases))
			bar := progressbar.NewOptions(len(cases), progressbar.OptionSetWriter(errOut),
				progressbar.OptionSetDescription(run.ID), progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish())
			r.Progress = func(done, total int) { _ = bar.Set(done) }
			ctx = assist.WithActor(ctx, v.actor)
			sum, err := r.Execute(ctx, run, cases, ex)
			_ = bar.Finish()
			fmt.Fprintln(errOut)
			if err != nil {
				return err
			}
			run, err = v.store.GetRun(ctx, run.ID)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(run); err != nil {
					return err
				}
			} else {
				printSummary(cmd.OutOrStdout(), run, sum)
			}
			if reportPath != "" {
				if err := writeRunReport(ctx, v.store, run.ID, reportPath, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if s.Qualifies != "" && s.NeedsModel() && sum.Pass {
				// The tested release becomes a candidate a reviewer can approve.
				rel, err := releases.NewStore(v.db).Propose(ctx, s.Qualifies, m.Name, m.Digest, "")
				if err != nil {
					return err
				}
				fmt.Fprintf(errOut, "release %d (%s %s for %s) is %s\n", rel.ID, m.Name, shortDigest(m.Digest), s.Qualifies, rel.Status)
			}
			if !sum.Pass {
				return fmt.Errorf("run %s: %w", run.ID, runner.ErrThresholds)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model name as the hosts know it (its digest is looked up and pinned)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory of large datasets (default: evals.data_dir)")
	cmd.Flags().StringVar(&reportPath, "report", "", "also write the HTML report to this file")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "start a new run even if an unfinished one of the same suite and model exists")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run with its summary as JSON")
	cmd.Flags().IntVar(&concurrency, "concurrency", 0, "cases in flight at once (default: the suite's, else 2)")
	return cmd
}

func printSummary(out io.Writer, run runner.Run, s runner.Summary) {
	fmt.Fprintf(out, "run %s  suite %s  model %s (%s)  %d cases, %d failed\n", run.ID, run.Suite, run.Model.Name,
		shortDigest(run.Model.Digest), s.Cases, s.Errors)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tMEAN\t95% CI\tCORPUS")
	for _, m := range run.Definition.Metrics {
		iv := s.Metrics[m]
		corpus := ""
		if c, ok := s.Corpus[m]; ok {
			corpus = fmt.Sprintf("%.4g", c)
		}
		fmt.Fprintf(tw, "%s\t%.4g\t[%.4g, %.4g]\t%s\n", m, iv.Mean, iv.Low, iv.High, corpus)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "latency p50 %.0f ms, p95 %.0f ms; %.1f tokens/s\n", s.LatencyP50, s.LatencyP95, s.TokensPerSec)
	for _, t := range s.Thresholds {
		fmt.Fprintln(out, t.String())
	}
	if s.Pass {
		fmt.Fprintln(out, "PASS")
	} else {
		fmt.Fprintln(out, "FAIL")
	}
}

func newEvalListCmd(e *env) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List evaluation runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := e.openEval(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer v.close()
			runs, err := v.store.ListRuns(cmd.Context(), limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSUITE\tMODEL\tDIGEST\tSTATUS\tPRIMARY\tPASS\tCREATED")
			for _, r := range runs {
				prim, pass := "", ""
				if r.Summary != nil {
					p := r.Definition.Primary()
					prim = fmt.Sprintf("%s %.4g", p, r.Summary.Metrics[p].Mean)
					pass = fmt.Sprint(r.Summary.Pass)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Suite, r.Model.Name, shortDigest(r.Model.Digest), r.Status,
					prim, pass, r.Created.Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "runs to list")
	return cmd
}

func newEvalShowCmd(e *env) *cobra.Command {
	var reportPath string
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Print a run's summary (and write its HTML report with --report)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := e.openEval(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer v.close()
			run, err := v.store.GetRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if run.Summary == nil {
				return assist.E(assist.KindConflict, "assist.eval", "run "+run.ID+" is "+run.Status+": run the same eval command again to finish it")
			}
			printSummary(cmd.OutOrStdout(), run, *run.Summary)
			if reportPath != "" {
				return writeRunReport(cmd.Context(), v.store, run.ID, reportPath, cmd.ErrOrStderr())
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "", "write the HTML report to this file")
	return cmd
}

func newEvalCompareCmd(e *env) *cobra.Command {
	var reportPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare BASELINE_RUN CANDIDATE_RUN",
		Short: "Compare two runs of the same suite case by case; exits non-zero when a regression gate fails",
		Long: `compare pairs the two runs' results by case and reports, per metric, the mean
difference with a 95% paired bootstrap interval and p-value. A gate of the suite
fails when the candidate is worse by more than its max_drop and the difference is
significant (p < 0.05); then the command exits non-zero (for CI).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			v, err := e.openEval(ctx, false)
			if err != nil {
				return err
			}
			defer v.close()
			cmp, base, cand, err := compareRuns(ctx, v.store, args[0], args[1])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(cmp); err != nil {
					return err
				}
			} else {
				printComparison(out, base, cand, cmp)
			}
			if reportPath != "" {
				if err := writeCompareReport(ctx, v.store, base.ID, cand.ID, reportPath, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if !cmp.Pass {
				return fmt.Errorf("candidate %s regresses against %s: a gate failed", cand.ID, base.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reportPath, "report", "", "also write the HTML comparison report to this file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	return cmd
}

func compareRuns(ctx context.Context, st runner.Store, a, b string) (runner.Comparison, runner.Run, runner.Run, error) {
	base, err := st.GetRun(ctx, a)
	if err != nil {
		return runner.Comparison{}, runner.Run{}, runner.Run{}, err
	}
	cand, err := st.GetRun(ctx, b)
	if err != nil {
		return runner.Comparison{}, runner.Run{}, runner.Run{}, err
	}
	br, err := st.Results(ctx, base.ID)
	if err != nil {
		return runner.Comparison{}, runner.Run{}, runner.Run{}, err
	}
	cr, err := st.Results(ctx, cand.ID)
	if err != nil {
		return runner.Comparison{}, runner.Run{}, runner.Run{}, err
	}
	cmp, err := runner.Compare(base, cand, br, cr)
	return cmp, base, cand, err
}

func printComparison(out io.Writer, base, cand runner.Run, c runner.Comparison) {
	fmt.Fprintf(out, "baseline %s (%s %s)  candidate %s (%s %s)  %d paired cases\n", base.ID, base.Model.Name,
		shortDigest(base.Model.Digest), cand.ID, cand.Model.Name, shortDigest(cand.Model.Digest), c.Pairs)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tBASELINE\tCANDIDATE\tDELTA\t95% CI\tp")
	for _, m := range c.Metrics {
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%+.4g\t[%+.4g, %+.4g]\t%.3g\n", m.Metric, m.Baseline, m.Candidate, m.Paired.Delta.Mean,
			m.Paired.Delta.Low, m.Paired.Delta.High, m.Paired.P)
	}
	_ = tw.Flush()
	for _, g := range c.Gates {
		fmt.Fprintln(out, g.String())
	}
	if c.Pass {
		fmt.Fprintln(out, "PASS")
	} else {
		fmt.Fprintln(out, "FAIL")
	}
}

// writeFileAtomic writes data to p through a temporary file.
func writeFileAtomic(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func writeRunReport(ctx context.Context, st runner.Store, runID, p string, errOut io.Writer) error {
	run, err := st.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	res, err := st.Results(ctx, runID)
	if err != nil {
		return err
	}
	html, err := report.Run(run, res)
	if err != nil {
		return assist.E(assist.KindConflict, "assist.eval", err.Error())
	}
	if err := writeFileAtomic(p, html); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "report written to %s (sha256 %s)\n", p, report.Hash(html))
	return nil
}

func writeCompareReport(ctx context.Context, st runner.Store, a, b, p string, errOut io.Writer) error {
	cmp, base, cand, err := compareRuns(ctx, st, a, b)
	if err != nil {
		return err
	}
	br, err := st.Results(ctx, base.ID)
	if err != nil {
		return err
	}
	cr, err := st.Results(ctx, cand.ID)
	if err != nil {
		return err
	}
	html, err := report.Compare(base, cand, br, cr, cmp)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p, html); err != nil {
		return err
	}
	fmt.Fprintf(errOut, "comparison report written to %s (sha256 %s)\n", p, report.Hash(html))
	return nil
}
