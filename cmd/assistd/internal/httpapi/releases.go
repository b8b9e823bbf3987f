package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/approve"
	"github.com/soteai/gateway/evals/report"
	"github.com/soteai/gateway/evals/runner"
	"github.com/soteai/gateway/evals/suite"
	"github.com/soteai/gateway/models/releases"
)

// ReleaseDeps serve the evaluation runs and model releases a risk group
// reviews (the review page at /ui/review/).
type ReleaseDeps struct {
	Workflow *approve.Workflow
	// Mismatches are the hosts serving another digest under an approved
	// release's name (from the release watcher).
	Mismatches func() []releases.Mismatch
	// Check re-reads the approved releases and the hosts' digests now.
	Check func(ctx context.Context)
	// Start starts (or resumes) a run of a built-in suite in the
	// gateway, in the background; nil leaves POST /v1/evals/runs out.
	Start func(ctx context.Context, suiteName, model string, fresh bool, actor assist.Actor) (runner.Run, bool, error)
}

var reviewers = []assist.Role{assist.RoleRiskReviewer, assist.RoleAdmin}

// reportCSP lets a report's own inline styles apply and nothing else: no
// scripts, no requests.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// registerReleaseRoutes adds /v1/evals and /v1/releases; nothing when
// d.Releases is nil.
func registerReleaseRoutes(e *echo.Echo, d Deps, authn echo.MiddlewareFunc, limit int64) {
	if d.Releases == nil {
		return
	}
	r := d.Releases
	g := e.Group("/v1", authn)
	g.GET("/evals/suites", evalSuites(), allow(reviewers...))
	g.GET("/evals/runs", evalRuns(r), allow(reviewers...))
	if r.Start != nil {
		g.POST("/evals/runs", startRun(r, limit), allow(reviewers...))
	}
	g.GET("/evals/runs/:id", evalRun(r), allow(reviewers...))
	g.GET("/evals/runs/:id/report", evalReport(r), allow(reviewers...))
	g.GET("/evals/compare", evalCompare(r, false), allow(reviewers...))
	g.GET("/evals/compare/report", evalCompare(r, true), allow(reviewers...))
	g.GET("/releases", listReleases(r), allow(reviewers...))
	g.POST("/releases/approve", approveRelease(r, limit), allow(reviewers...))
	g.POST("/releases/:id/withdraw", withdrawRelease(r, limit), allow(reviewers...))
}

func evalSuites() echo.HandlerFunc {
	return func(c echo.Context) error {
		out := []map[string]any{}
		for _, n := range suite.Builtin() {
			s, err := suite.Open(n)
			if err != nil {
				return err
			}
			out = append(out, map[string]any{"name": s.Name, "task": s.Task, "qualifies": s.Qualifies, "metrics": s.Metrics,
				"needs_model": s.NeedsModel(), "description": s.Description})
		}
		return c.JSON(http.StatusOK, map[string]any{"suites": out})
	}
}

// startRun starts a built-in suite in the background (202); the run's
// progress is read with GET /v1/evals/runs/:id.
func startRun(r *ReleaseDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b struct {
			Suite string `json:"suite"`
			Model string `json:"model"`
			Fresh bool   `json:"fresh"`
		}
		if err := decodeStrict(c, limit, &b); err != nil {
			return err
		}
		run, resumed, err := r.Start(c.Request().Context(), b.Suite, b.Model, b.Fresh, actorOf(c))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, map[string]any{"run": run, "resumed": resumed})
	}
}

func evalRuns(r *ReleaseDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, _ := strconv.Atoi(c.QueryParam("limit"))
		runs, err := r.Workflow.Runs.ListRuns(c.Request().Context(), limit)
		if err != nil {
			return err
		}
		if runs == nil {
			runs = []runner.Run{}
		}
		return c.JSON(http.StatusOK, map[string]any{"runs": runs})
	}
}

func evalRun(r *ReleaseDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		run, err := r.Workflow.Runs.GetRun(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, run)
	}
}

func sendReport(c echo.Context, html []byte) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", reportCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Report-SHA256", report.Hash(html))
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", html)
}

func evalReport(r *ReleaseDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, html, err := r.Workflow.Report(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return sendReport(c, html)
	}
}

func evalCompare(r *ReleaseDeps, asReport bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		a, b := c.QueryParam("baseline"), c.QueryParam("candidate")
		if a == "" || b == "" {
			return assist.E(assist.KindInvalid, "httpapi.evalCompare", "give baseline and candidate run ids")
		}
		st := r.Workflow.Runs
		base, err := st.GetRun(ctx, a)
		if err != nil {
			return err
		}
		cand, err := st.GetRun(ctx, b)
		if err != nil {
			return err
		}
		br, err := st.Results(ctx, a)
		if err != nil {
			return err
		}
		cr, err := st.Results(ctx, b)
		if err != nil {
			return err
		}
		cmp, err := runner.Compare(base, cand, br, cr)
		if err != nil {
			return err
		}
		if !asReport {
			return c.JSON(http.StatusOK, cmp)
		}
		html, err := report.Compare(base, cand, br, cr, cmp)
		if err != nil {
			return assist.E(assist.KindInternal, "httpapi.evalCompare", err)
		}
		return sendReport(c, html)
	}
}

func listReleases(r *ReleaseDeps) echo.HandlerFunc {
	return func(c echo.Context) error {
		rels, err := r.Workflow.Releases.List(c.Request().Context(), assist.Task(c.QueryParam("task")))
		if err != nil {
			return err
		}
		mm := []releases.Mismatch{}
		if r.Mismatches != nil {
			mm = append(mm, r.Mismatches()...)
		}
		return c.JSON(http.StatusOK, map[string]any{"releases": rels, "mismatches": mm})
	}
}

type approveBody struct {
	Task         assist.Task `json:"task"`
	RunID        string      `json:"run_id"`
	ReportSHA256 string      `json:"report_sha256"`
	Reason       string      `json:"reason"`
	Purpose      string      `json:"purpose"`
}

func approveRelease(r *ReleaseDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		var b approveBody
		if err := decodeStrict(c, limit, &b); err != nil {
			return err
		}
		if b.RunID == "" || len(b.ReportSHA256) != 64 {
			return assist.E(assist.KindInvalid, "httpapi.approveRelease", "give run_id and report_sha256 (the SHA-256 of the report you read)")
		}
		ctx := c.Request().Context()
		rel, err := r.Workflow.Approve(ctx, approve.Request{Task: b.Task, RunID: b.RunID, ReportHash: b.ReportSHA256,
			Reason: b.Reason, Purpose: b.Purpose, Actor: actorOf(c)})
		if err != nil {
			return err
		}
		if r.Check != nil {
			r.Check(ctx)
		}
		return c.JSON(http.StatusCreated, rel)
	}
}

func withdrawRelease(r *ReleaseDeps, limit int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return assist.E(assist.KindInvalid, "httpapi.withdrawRelease", "the release id must be a positive number")
		}
		var b struct {
			Reason string `json:"reason"`
		}
		if err := decodeStrict(c, limit, &b); err != nil {
			return err
		}
		ctx := c.Request().Context()
		rel, err := r.Workflow.Withdraw(ctx, id, b.Reason, actorOf(c))
		if err != nil {
			return err
		}
		if r.Check != nil {
			r.Check(ctx)
		}
		return c.JSON(http.StatusOK, rel)
	}
}
