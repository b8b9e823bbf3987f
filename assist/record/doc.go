// Package record is the one audited model call: every AI output the
// gateway produces — a relayed answer, a task's model call, a task's own
// result — is written to the audit log and only then released.
//
//   - Commit records a finished answer (a task's result, a relayed whole
//     answer) before the caller releases it; Refuse records a refusal.
//   - Begin records the start of a stream before its first byte; the
//     returned Stream hashes every byte it releases, and End records the
//     end with that hash (an error from End means: tell the client in band
//     that the output must not be used).
//   - Generate and Stream make one model call for a task: the model is
//     resolved for the task (Resolver: configuration now, approved model
//     releases later), the prompt template's id and version travel into
//     the record, and the caller, request id and patient come from the
//     call or its context. A call made inside a task (one map step of a
//     long summary) names its task's record in RelatesTo, so a reviewer can
//     replay how an output was built.
//
// With auditing disabled by configuration (a nil Log) nothing is recorded
// and everything is released; that is an explicit operator choice, logged
// at start.
//
// It imports the vocabulary, the audit log's event types and the Ollama
// adapter (record.Ollama); nothing of HTTP or the database drivers. The
// import rules are checked by deps_test.go at the repository root.
package record
