// Package releases keeps the model releases of the gateway's tasks in
// PostgreSQL (schema "releases", its own migration set): a model name and
// digest proposed as a candidate for a task (by an evaluation run),
// approved by a risk reviewer with the run and the SHA-256 of the report
// they read, or withdrawn. At most one release per task is approved; it is
// the only one a task with enforcement on may use.
//
// Mismatches compares the hosts' current digests with the approved
// releases, so a host whose model changed behind the same name is noticed.
//
// It imports assist and assist/pgdb only; the approval workflow that
// checks the evaluation run lives with the programs (assist/approve).
package releases
