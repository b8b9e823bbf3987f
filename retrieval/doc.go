// Package retrieval grounds the gateway's tasks in an organisation's own
// material: it turns documents (Markdown, plain text, HTML, PDF) into
// normalised text, detects their language, cuts them into heading-aware
// chunks with exact character offsets, and ranks search results with
// reciprocal rank fusion. Service composes those pure parts with an
// Embedder (the host pool) and a Store (retrieval/pgstore).
//
// Offsets are counted in Unicode code points of the normalised document
// text (Parsed.Text, stored with the document), so a caller can show the
// exact passage it cites.
//
// The package must not import database drivers, HTTP frameworks or model
// clients: storage and embeddings are reached through the Store and
// Embedder interfaces declared here. Logs carry ids, never document text.
package retrieval
