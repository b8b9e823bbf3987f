// Package retrievaltest provides helpers for tests of retrieval and its
// callers: a deterministic bag-of-words Embedder, whose rankings can be
// reasoned about without a real model, and a tiny PDF writer.
//
// It must be imported only by tests. It imports nothing of the project
// except the assist vocabulary.
package retrievaltest
