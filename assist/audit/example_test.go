package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/soteai/gateway/assist/audit"
)

func ExampleFindHETU() {
	text := "Potilas 131052-308T, äiti 010594Y9032; 131052-308U has a wrong check character."
	fmt.Println(audit.FindHETU(text))
	fmt.Println(audit.RedactHETU(text, nil))
	// Output:
	// [131052-308T 010594Y9032]
	// Potilas [HETU], äiti [HETU]; 131052-308U has a wrong check character.
}

func ExamplePseudonymise() {
	key := bytes.Repeat([]byte{1}, 32) // from configuration, kept for the life of the log
	a := audit.Pseudonymise(key, "131052-308T")
	b := audit.Pseudonymise(key, " 131052-308t")
	fmt.Println(len(a), bytes.Equal(a, b))
	// Output: 32 true
}

// A verifier needs only the records, the checkpoints and the public key.
func ExampleVerify() {
	dir := "testdata/example-export" // written by audit.Export or `assist audit export`
	src, err := audit.OpenExport(dir)
	if err != nil {
		fmt.Println("no export:", err != nil)
		return
	}
	pub, _ := src.PublicKey() // better: from a trusted place
	rep, err := audit.Verify(context.Background(), src, audit.VerifyOptions{PublicKey: ed25519.PublicKey(pub)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f)
	}
	fmt.Println("ok:", rep.OK())
}
