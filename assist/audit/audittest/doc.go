// Package audittest holds the tamperings that tests of the audit log, its
// verifier and its command line play out on a real database, so every
// layer is tested against the same attacks.
//
// The scenarios assume the layout [Fill] builds: a log of 50 records
// (seq 1..50) with signed checkpoints of sizes 20, 40 and 50.
//
// It is for tests only. It imports audit and pgx; nothing but _test.go
// files may import it. The audit package's own tests that use it are in
// package audit_test, since audit cannot import it.
package audittest
