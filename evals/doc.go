// Package evals holds the gateway's evaluation datasets and metrics.
//
// A dataset is a JSON Lines file: one case per line,
//
//	{"id": "...", "task": "risk_assess", "input": {...}, "expected": {...}, "tags": ["..."], "notes": "..."}
//
// where input and expected are task-specific JSON objects that the
// package running the task decodes (for risk_assess: a risk.Input and the
// rule ids a clinician expects to fire). Blank lines and lines starting
// with "#" are ignored. Load validates every line and reports all
// problems with their line numbers.
//
// metrics.go has small precision/recall helpers per label (e.g. per rule
// category) and a plain-text report table.
//
// The package is a leaf: it imports only the standard library, so domain
// tests (risk, retrieval) can use it without an import cycle; it must not
// import domain packages. Runners that call models live elsewhere
// (cmd/assist eval).
package evals
