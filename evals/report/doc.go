// Package report renders evaluation runs and comparisons as
// self-contained HTML files: no scripts, no external resources, charts as
// inline SVG (metric per category with 95% intervals, latency
// distribution, per-metric differences), the worst cases with their
// input, output and expected answer, and the provenance a reviewer needs
// (model name and digest, dataset and suite hashes, code version).
//
// The output is deterministic: the same run renders to the same bytes, so
// the SHA-256 of a report (Hash) identifies what a risk group reviewed,
// and a model approval records it.
//
// It imports evals, evals/runner and evals/suite only.
package report
