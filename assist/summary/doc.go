// Package summary writes draft visit notes and client background
// summaries in which every sentence cites the transcript turns (or note
// lines, or FHIR resources) it rests on, checks each sentence against its
// citations, and keeps drafts and their clinician reviews.
//
//   - Templates (templates.go) are versioned files: SOAP, the Finnish
//     structured headings of Kanta records (with Swedish titles), a
//     discharge letter, the background summary; a county adds its own
//     from a directory. Prompts are text/template files (prompts/).
//   - Service.Draft (draft.go) pseudonymises identity codes and names
//     (privacy.go), asks the model for JSON sentences per section through
//     one audited call each (assist/record), map-reduces transcripts
//     longer than the model's context over segments in parallel
//     (mapreduce.go), parses the answer robustly and as it streams
//     (parse.go), drops unknown citations with a flag, restores the
//     placeholders and runs the grounding checker over every sentence.
//   - Background (background.go) turns a FHIR R4 Bundle into cited facts
//     per section, with medication risk flags from the risk engine.
//   - Store (store.go) keeps drafts and reviews in PostgreSQL (its own
//     migration set); reviews store the diff, the edit distance and the
//     flags a reviewer overrode (review.go).
//
// It logs nothing of the text. It imports the vocabulary, assist/record,
// assist/audit (identity-code finder, event kinds), assist/pgdb, risk and
// its subpackages; never HTTP. FHIR output lives in summary/fhirdoc.
package summary
