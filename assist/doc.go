// Package assist is the gateway's vocabulary: error kinds, roles, actors,
// priority classes and task names shared by every domain package.
//
// It is a leaf: it imports nothing of the project, so models, retrieval,
// speech, risk and the audit log can all use it without an import cycle.
// Orchestration that composes several domains lives in sub-packages.
package assist
