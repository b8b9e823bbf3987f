// Package pgstore keeps evaluation runs and per-case results in
// PostgreSQL (schema "evals", its own migration set). It implements
// runner.Store; each result is committed on its own, so a run killed
// midway keeps every finished case.
package pgstore
