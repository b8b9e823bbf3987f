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
// Text metrics reproduce widely used reference implementations exactly,
// so scores are comparable with published numbers: word and character
// error rates (WordErrors, CharErrors; jiwer 4 semantics), chrF/chrF++
// (CorpusChrF, SentenceChrF; sacreBLEU 2.x), BLEU (CorpusBLEU,
// SentenceBLEU; sacreBLEU 2.x, 13a, intl, char or no tokenizer), TER
// (CorpusTER; sacreBLEU 2.x) and ROUGE-N/L/Lsum (Rouge, RougeWith;
// google-research rouge_score, with optional Porter stemming and a
// Unicode tokenizer). Bootstrap and PairedBootstrap give confidence
// intervals and a paired significance test. Each
// function's comment gives the exact definition. Their tests are driven by
// the upstream test cases copied into testdata/metrics (Apache-2.0; see the
// NOTICE there).
//
// The package is a leaf: it imports only the standard library, so domain
// tests (risk, retrieval) can use it without an import cycle; it must not
// import domain packages. Runners that call models live elsewhere
// (cmd/assist eval).
package evals
