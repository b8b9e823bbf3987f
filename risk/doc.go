// Package risk is the medication risk engine: a versioned knowledge base of
// drugs, drug classes and cited rules (embedded YAML under kb/), and a pure,
// deterministic Assess function that turns a medication list and a few
// patient facts into risk flags and "not assessable" notes.
//
// Flags never come from a language model. The optional plain-language
// summary (SummaryPrompt, CheckSummary, Summarize) only rephrases flags the
// engine produced, and its output is rejected when it adds or omits one.
//
// The package does no I/O: no network, no database, no files other than
// the embedded knowledge base, no clock (ages are given or computed by the
// caller), no logging of patient data. It imports only the standard library,
// the YAML decoder and the assist vocabulary; it must not import
// cmd/assistd/internal/httpapi, models, the audit log or any adapter. Input adapters live
// in sub-packages: risk/fhirin (FHIR R4 bundles) and risk/cdshooks (CDS Hooks
// 2.0 requests, discovery and cards).
package risk
