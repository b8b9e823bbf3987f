package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/soteai/gateway/cmd/internal/buildinfo"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/soteai/gateway/cmd/internal/schema"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/approve"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
	"github.com/soteai/gateway/assist/clinic"
	"github.com/soteai/gateway/assist/clinic/redflags"
	"github.com/soteai/gateway/assist/evalrun"
	"github.com/soteai/gateway/assist/pgdb"
	"github.com/soteai/gateway/assist/record"
	"github.com/soteai/gateway/assist/relay"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/cmd/assistd/internal/httpapi"
	"github.com/soteai/gateway/cmd/assistd/internal/metrics"
	"github.com/soteai/gateway/cmd/internal/config"
	evalstore "github.com/soteai/gateway/evals/pgstore"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/models/releases"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
	"github.com/soteai/gateway/risk"
)

// run wires the gateway from its configuration and serves until ctx ends.
// It prints one line with the listening address when ready.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("assistd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); ASSIST_* environment variables override it")
	showVersion := fs.Bool("version", false, "print the version, commit and build date, then exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		_, err := fmt.Fprintln(stdout, "assistd "+buildinfo.Get().String())
		return err
	}
	cfg, err := config.Load(*cfgPath, environ)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level)

	db, err := pgdb.Open(ctx, cfg.Database.URL, cfg.Database.MaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkMigrations(ctx, db); err != nil {
		return err
	}

	oc := ollama.NewClient(ollama.HTTPOptions{
		DialTimeout:           cfg.Limits.UpstreamDialTimeout,
		ResponseHeaderTimeout: cfg.Limits.UpstreamHeaderTimeout,
	})
	pool := models.NewPool(cfg.PoolHosts(), oc, cfg.PoolOptions(), log)
	pool.Start(ctx)
	defer pool.Close()

	se, err := newSpeech(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer se.close()

	m := metrics.New(pool.Stats)
	pool.ObserveWaits(m.QueueWait)
	auditLog, err := newAuditor(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	kb, err := risk.DefaultKB()
	if err != nil {
		return fmt.Errorf("medication risk knowledge base: %w", err)
	}
	riskDeps := &httpapi.RiskDeps{KB: kb, Now: time.Now}
	svc := &ollama.Service{Pool: pool, Client: oc}
	// Each task's model: its approved release where enforcement is on
	// (releases.enforce), else the configured one.
	relStore := releases.NewStore(db)
	resolver := &approve.Resolver{Releases: relStore, Enforce: cfg.EnforcedTasks(), Fallback: cfg.TaskModels(), TTL: cfg.Releases.CacheTTL}
	recDeps := record.Deps{
		Models:     record.Ollama{Svc: svc},
		Resolver:   resolver,
		Observe:    m,
		Logger:     log,
		EndTimeout: 10 * time.Second,
	}
	if auditLog != nil {
		defer auditLog.Close()
		recDeps.Log = auditLog
		m.CheckpointAge(func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			c, err := auditLog.LatestCheckpoint(ctx)
			if err != nil || c.Time.IsZero() {
				return -1
			}
			return time.Since(c.Time).Seconds()
		})
	}
	rec := record.New(recDeps)

	rl := &relay.Relay{Pool: pool, Transport: oc, Rec: rec, Observe: m, Log: log, MaxAnswerBytes: cfg.Limits.MaxAnswerBytes}
	rs, err := retrieval.New(retrieval.Config{
		Store:        pgstore.New(db),
		Embedder:     svc,
		DefaultModel: cfg.Models.Embedding,
		Index:        retrieval.IndexParams{M: cfg.Retrieval.HNSWM, EfConstruction: cfg.Retrieval.HNSWEfConstruction, EfSearch: cfg.Retrieval.HNSWEfSearch},
		Parse:        retrieval.ParseOptions{MaxBytes: cfg.Retrieval.MaxDocumentBytes, PDF: retrieval.PDFToText{}},
		Logger:       log,
	})
	if err != nil {
		return err
	}
	if _, err := cfg.TaskModels().Resolve(ctx, assist.TaskRiskSummary); err == nil || resolver.Enforce[assist.TaskRiskSummary] {
		// The plain-language summaries of risk flags: one audited model
		// call each, at interactive priority.
		riskDeps.Summary = record.Fixed{Rec: rec, Call: record.Call{
			Task:     assist.TaskRiskSummary,
			Template: record.TemplateRef{ID: risk.SummaryTemplateID, Version: risk.SummaryTemplateVersion},
			Priority: assist.PriorityInteractive,
		}}
	}
	cdsAuth, err := newCDSAuth(cfg, log)
	if err != nil {
		return err
	}
	sumDeps, err := newSummaryDeps(cfg, db, rec, kb)
	if err != nil {
		return err
	}
	interp, err := newInterpreter(ctx, cfg, se, rec, rs, log)
	if err != nil {
		return err
	}
	if interp != nil {
		defer interp.Close() // after the server has shut down
	}
	store := auth.NewStore(db)
	prioPolicy, err := cfg.PriorityPolicy()
	if err != nil {
		return err
	}
	deps := httpapi.Deps{
		Priority:    prioPolicy,
		ReviewScope: httpapi.ReviewScope(cfg.Audit.ReviewScope),
		Pool:        pool,
		Ollama:      oc,
		Relay:       rl,
		Verifier:    auth.NewVerifier(store, cfg.Auth.CacheTTL, cfg.Auth.OllamaMaxSkew, nil),
		Metrics:     m,
		Log:         log,
		Retrieval:   rs,
		Risk:        riskDeps,
		CDS:         cdsAuth,
		Rec:         rec,
		Summary:     sumDeps,
		Ready:       db.Ping,
		Migrations: func(ctx context.Context) string {
			err := checkMigrations(ctx, db)
			m.PendingMigrations(pendingCount(err))
			if err != nil {
				return assist.MessageOf(err)
			}
			return ""
		},
		Version: buildinfo.Get().String(),
		Speech:  se.deps(cfg),
		// The grounding checker reads drug names from the risk catalogue.
		SummaryCheck: &httpapi.SummaryCheckDeps{Checker: grounding.New(kb), Limits: grounding.Limits{
			MaxSources: cfg.Summary.MaxTurns, MaxSentences: cfg.Summary.MaxTurns,
			MaxTextChars: cfg.Summary.MaxTurnChars, MaxChars: cfg.Summary.MaxChars}},
		Interpret: interp,
	}
	if auditLog != nil {
		deps.Audit = auditLog
	}
	rules, err := redflags.Default()
	if err != nil {
		return fmt.Errorf("clinic red-flag rules: %w", err)
	}
	clinicDeps := clinic.Deps{Rules: rules, KB: kb, Search: rs, Model: rec, Audit: rec}
	if auditLog != nil {
		clinicDeps.Records = auditLog
	}
	clinicSvc, err := clinic.New(cfg.Clinic, clinicDeps)
	if err != nil {
		return fmt.Errorf("clinic: %w", err)
	}
	deps.Clinic = clinicSvc
	deps.Releases = releaseDeps(ctx, cfg, pool, relStore, resolver, evalstore.New(db), auditLog, m, log)
	deps.Releases.Start = (&evalStarter{base: ctx, store: evalstore.New(db), releases: relStore, pool: pool, log: log,
		running: map[string]bool{}, deps: evalrun.Deps{Pool: pool, Rec: rec, DataDir: cfg.Evals.DataDir, DataDirHint: "evals.data_dir",
			NewRetrieval: func(model string) (*retrieval.Service, error) {
				return retrieval.New(retrieval.Config{Store: pgstore.New(db), Embedder: svc, DefaultModel: model})
			}}}).Start
	opts := httpapi.Options{
		MaxBodyBytes:       cfg.Limits.MaxBodyBytes,
		RequestTimeout:     cfg.Limits.RequestTimeout,
		BodyReadTimeout:    cfg.Limits.BodyReadTimeout,
		OllamaKeysOverHTTP: cfg.Auth.OllamaKeysOverHTTP,
		ReadHeaderTimeout:  cfg.Limits.ReadHeaderTimeout,
		IdleTimeout:        cfg.Limits.IdleTimeout,
	}
	srv, err := httpapi.Listen(cfg.Listen, httpapi.New(deps, opts), opts, cfg.TLS.CertFile, cfg.TLS.KeyFile, log)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	rld := reloader{path: *cfgPath, environ: environ, pool: pool, speech: se, audit: auditLog, log: log}

	if cfg.Auth.OllamaKeysOverHTTP && !srv.TLS() {
		log.Warn("Ollama key signatures are accepted over plain HTTP from other machines (auth.ollama_keys_over_http): "+
			"a captured signature can be replayed with another body within auth.ollama_max_skew", "window", cfg.Auth.OllamaMaxSkew)
	}
	scheme := "http"
	if srv.TLS() {
		scheme = "https"
	}
	log.Info("listening", "addr", srv.Addr(), "tls", srv.TLS(), "hosts", len(cfg.Hosts), "audit", cfg.AuditEnabled(), "version", buildinfo.Get().Version)
	fmt.Fprintf(stdout, "assistd listening on %s://%s\n", scheme, srv.Addr())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	for done := false; !done; {
		select {
		case err := <-errc:
			return err
		case <-hup:
			rld.reload(ctx)
		case <-ctx.Done():
			done = true
		}
	}
	log.Info("shutting down", "drain_timeout", cfg.Limits.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Limits.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

// releaseDeps builds the model-release workflow and starts the watcher
// that notices hosts serving another digest under an approved name (it
// checks at every health interval; metrics and /v1/admin/hosts show it).
func releaseDeps(ctx context.Context, cfg *config.Config, pool *models.Pool, st *releases.Store, resolver *approve.Resolver,
	runs runner.Store, auditLog *audit.Log, m *metrics.Metrics, log *slog.Logger) *httpapi.ReleaseDeps {
	w := &approve.Workflow{Releases: st, Runs: runs}
	watcher := &approve.Watcher{Resolver: resolver, Log: log, Hosts: func() []releases.HostModel {
		var out []releases.HostModel
		for _, h := range pool.Stats().Hosts {
			if !h.Up {
				continue
			}
			for _, mi := range h.Models {
				out = append(out, releases.HostModel{Host: h.Name, Model: mi.Name, Digest: mi.Digest})
			}
		}
		return out
	}}
	if auditLog != nil {
		w.Audit, watcher.Audit = auditLog, auditLog
	}
	check := func(ctx context.Context) {
		resolver.Refresh()
		if _, err := watcher.Check(ctx); err != nil {
			log.Warn("model release check failed", "err", err)
		}
	}
	every := cfg.Health.Interval
	if every <= 0 {
		every = 5 * time.Second
	}
	go watcher.Run(ctx, every)
	m.WatchReleases(watcher.Current)
	return &httpapi.ReleaseDeps{Workflow: w, Mismatches: watcher.Current, Check: check}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// pendingCount is how many migration sets err (from checkMigrations)
// names as pending: 0 for none, 1 when the check itself failed.
func pendingCount(err error) int {
	var p pendingError
	if errors.As(err, &p) {
		return p.n
	}
	if err != nil {
		return 1
	}
	return 0
}

type pendingError struct {
	n   int
	err error
}

func (e pendingError) Error() string { return e.err.Error() }
func (e pendingError) Unwrap() error { return e.err }

// checkMigrations refuses to serve a database whose schema is older than
// this binary: the operator runs `assist migrate` first (a newer schema,
// left by the next release during a rolling upgrade, is served).
func checkMigrations(ctx context.Context, db *pgxpool.Pool) error {
	pending, err := pgdb.PendingMigrations(ctx, db, schema.Sets()...)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	names := make([]string, len(pending))
	for i, p := range pending {
		names[i] = p.String()
	}
	return pendingError{n: len(pending), err: assist.E(assist.KindUnavailable, "assistd.checkMigrations",
		"the database has pending migrations ("+strings.Join(names, ", ")+"): run `assist migrate --config FILE` first")}
}
