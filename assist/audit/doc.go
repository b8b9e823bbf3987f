// Package audit is the gateway's tamper-evident audit log: one append-only
// record per AI event (outputs, stream start and end, clinician reviews,
// model approvals, token and configuration changes), kept in PostgreSQL.
//
// Every record has a gapless sequence number and is encoded canonically
// (see [Record.Encode]); its leaf hash is SHA-256(0x00 || encoding) as in
// RFC 6962. Records form a hash chain (each record carries the leaf hash of
// its predecessor) and an RFC 6962/9162 Merkle tree whose roots are signed
// periodically as Ed25519 checkpoints. Inclusion proofs for a record and
// consistency proofs between two checkpoints are served from stored subtree
// hashes, so no one has to trust the database administrator: [Verify]
// checks an export or the live database and names precisely what was
// modified, removed, reordered or truncated.
//
// Patient identifiers never reach the database in clear: [Log.Append]
// pseudonymises them with a keyed HMAC-SHA256 and redacts Finnish personal
// identity codes (see [FindHETU]) from every metadata field. Full input and
// output content is stored only when a content key is configured,
// encrypted with AES-256-GCM, and is erased after the retention period
// while the hashes that the tree covers stay verifiable.
//
// Writes use group commit: concurrent Append calls are queued, one writer
// goroutine assigns sequence numbers and inserts a whole batch in one
// transaction, and each caller returns only once its own record is durable.
// When the database cannot be written Append fails with kind unavailable,
// so the gateway answers 503 and serves nothing unrecorded; the writer
// reloads its state and recovers when the database returns.
//
// The package owns its tables and migrations ([Migrations]). It imports the
// assist vocabulary, pgdb and pgx; it must not import HTTP frameworks, the
// model adapters or any other domain package.
package audit
