// The import rules of the project, checked from `go list` data the way
// Go's own go/build/deps_test.go checks the standard library: the tree
// shows the architecture only as long as nothing imports against it.
package gateway_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/soteai/gateway/"

// A rule says which project packages the packages matching Pkg may import
// (besides their own subtree when Pkg ends in "/..."). Rules are tried in
// order; the first whose Pkg matches decides. A pattern "x/..." matches x
// and everything under it. A package no rule matches fails the test: a
// new package is a decision about the architecture, taken here.
type rule struct {
	Pkg   string
	Allow []string
}

// The domains: pure or store-owning packages the assistant builds on.
var domains = []string{"models/...", "retrieval/...", "risk/...", "speech/...", "evals/..."}

var rules = []rule{
	// The vocabulary is a leaf; so is the test helper for golden files.
	{"assist", nil},
	{"assist/golden", nil},
	// Storage and the audit log stand on the vocabulary only.
	{"assist/pgdb/...", []string{"assist"}},
	{"assist/audit/...", []string{"assist", "assist/pgdb/..."}},
	{"assist/auth/...", []string{"assist", "assist/pgdb/..."}},
	// The one audited model call, and the prompt templates it names.
	{"assist/record", []string{"assist", "assist/audit", "models", "models/ollama"}},
	{"assist/prompt", []string{"assist", "assist/record"}},
	// The tasks (relay, summary, interpret, clinic, …) compose the
	// assistant's parts and the domains, never an adapter above them.
	{"assist/...", append([]string{"assist/..."}, domains...)},
	// Domains: each stands on the vocabulary and storage helpers; risk is
	// pure (no models, no database, no HTTP).
	{"risk/riskeval", []string{"assist", "risk/...", "evals"}},
	{"risk/...", []string{"assist"}},
	{"models/...", []string{"assist", "assist/pgdb/..."}},
	{"retrieval/...", []string{"assist", "assist/pgdb/..."}},
	// The upstream recogniser shares the LLM hosts' pool machinery.
	{"speech/openaistt", []string{"assist", "speech", "models"}},
	{"speech/...", []string{"assist"}},
	{"evals/...", append([]string{"assist", "assist/pgdb/..."}, domains...)},
	// Programs and their adapters may import everything but each other's
	// internals (the compiler enforces internal/ already).
	{"cmd/assistd/internal/...", append([]string{"assist/...", "cmd/assistd/internal/..."}, domains...)},
	{"cmd/internal/...", append([]string{"assist/..."}, domains...)},
	{"cmd/...", append([]string{"assist/...", "cmd/..."}, domains...)},
}

// Each external dependency below is imported by the packages named only:
// one adapter per outside library.
var external = map[string][]string{
	"github.com/labstack/echo/v4":          {"cmd/assistd/internal/httpapi"},
	"github.com/coder/websocket":           {"cmd/assistd/internal/httpapi"},
	"github.com/chromedp/chromedp":         {"cmd/assistd/internal/browsertest"},
	"github.com/ollama/ollama/api":         {"models/ollama"},
	"github.com/prometheus/client_golang":  {"cmd/assistd/internal/metrics"},
	"github.com/spf13/cobra":               {"cmd/assist"},
	"github.com/schollz/progressbar/v3":    {"cmd/assist"},
	"github.com/pressly/goose/v3":          {"assist/pgdb"},
	"github.com/pgvector/pgvector-go":      {"retrieval/pgstore"},
	"github.com/transparency-dev/merkle":   {"assist/audit"},
	"github.com/caarlos0/env/v11":          {"cmd/internal/config"},
	"github.com/go-audio/wav":              {"speech"},
	"github.com/abadojack/whatlanggo":      {"retrieval"},
	"github.com/samply/golang-fhir-models": {"assist/clinic/clinicfhir", "assist/summary/summaryfhir"},
}

func match(pattern, pkg string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	}
	return pkg == pattern
}

// check returns the violations of pkg importing imports (project-relative
// paths for project packages, full paths for others).
func check(pkg string, imports []string) []string {
	var bad []string
	var r *rule
	for i := range rules {
		if match(rules[i].Pkg, pkg) {
			r = &rules[i]
			break
		}
	}
	if r == nil {
		return []string{fmt.Sprintf("%s: no import rule covers this package; add one to deps_test.go", pkg)}
	}
	for _, imp := range imports {
		if rel, ok := strings.CutPrefix(imp, module); ok {
			if own, sub := strings.CutSuffix(r.Pkg, "/..."); sub && match(own+"/...", rel) {
				continue
			}
			allowed := false
			for _, a := range r.Allow {
				if match(a, rel) {
					allowed = true
					break
				}
			}
			if !allowed {
				bad = append(bad, fmt.Sprintf("%s may not import %s (rule %q)", pkg, rel, r.Pkg))
			}
			continue
		}
		for lib, owners := range external {
			if imp != lib && !strings.HasPrefix(imp, lib+"/") {
				continue
			}
			ok := false
			for _, o := range owners {
				ok = ok || o == pkg
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%s may not import %s: only %s does", pkg, imp, strings.Join(owners, ", ")))
			}
		}
	}
	return bad
}

// TestImportRules checks every package's non-test imports.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var bad []string
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] == strings.TrimSuffix(module, "/") {
			continue
		}
		n++
		bad = append(bad, check(strings.TrimPrefix(f[0], module), f[1:])...)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	if n < 20 {
		t.Fatalf("go list found only %d packages", n)
	}
}

// TestImportRulesCatchViolations shows that the check fails on forbidden
// imports, with synthetic packages.
func TestImportRulesCatchViolations(t *testing.T) {
	for _, tc := range []struct {
		pkg     string
		imports []string
		bad     bool
	}{
		{"risk", []string{module + "assist"}, false},
		{"risk", []string{module + "models"}, true},                              // risk never imports models
		{"risk/fhirin", []string{module + "cmd/assistd/internal/httpapi"}, true}, // a domain never imports an adapter
		{"assist", []string{module + "risk"}, true},                              // the vocabulary is a leaf
		{"assist/summary", []string{module + "assist/record", module + "retrieval", module + "risk"}, false},
		{"assist/summary", []string{module + "cmd/internal/config"}, true},
		{"retrieval", []string{"github.com/labstack/echo/v4"}, true}, // echo only in httpapi
		{"models/ollama", []string{"github.com/ollama/ollama/api"}, false},
		{"newtoplevel", nil, true}, // every package needs a rule
	} {
		got := check(tc.pkg, tc.imports)
		if (len(got) > 0) != tc.bad {
			t.Errorf("check(%s, %v) = %v, want violation %v", tc.pkg, tc.imports, got, tc.bad)
		}
	}
}
