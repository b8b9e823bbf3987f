// Package runner executes evaluation suites (evals/suite) case by case,
// in parallel, storing every case's result as it finishes so that a run
// killed midway resumes without redoing finished cases; it summarises a
// run (means with bootstrap confidence intervals per metric and per
// category, latency p50/p95, tokens per second, thresholds) and compares
// two runs case by case with a paired bootstrap test and the suite's
// regression gates.
//
// Model calls go through a Generator (declared here, implemented by the
// gateway's audited model call); results go to a Store (evals/pgstore).
// The package imports evals, evals/suite, assist and, for the risk
// suite's RiskExecutor, risk and risk/riskeval.
package runner
