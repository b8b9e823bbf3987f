package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soteai/gateway/assist/pgdb/pgtest"
)

// TestInstallGuide follows docs/install-debian.md literally in a sandbox
// (scripts/install-test.sh): a release built with scripts/dist.sh, every
// ```sh block of the guide in order against the stack's PostgreSQL and
// Ollama, the unit's ExecStart run with its credentials where no systemd
// runs; it passes only when the installed gateway serves TLS, /readyz
// answers 200 with the guide's CA file and the first token works.
func TestInstallGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release; not in -short")
	}
	dbURL := pgtest.URL(t)
	olURL := ollamaURL(t)
	for _, tool := range []string{"bash", "psql", "openssl", "curl", "gcc", "pkg-config", "dpkg-query", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed; the install test needs it (scripts/setup.sh)", tool)
			}
			t.Skipf("%s is not installed; run scripts/setup.sh", tool)
		}
	}
	script, err := filepath.Abs("../../scripts/install-test.sh")
	if err != nil {
		t.Fatal(err)
	}
	// A release build on a loaded machine takes minutes; the guide's own
	// waits are bounded too.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	// SIGTERM lets the script stop the gateway it started and drop its
	// database and roles.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(os.Environ(), "TEST_DATABASE_URL="+dbURL, "TEST_OLLAMA_URL="+olURL, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install-test.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "[install-test] ok:") {
		t.Fatalf("install-test.sh did not report success:\n%s", out)
	}
	t.Logf("%s", out)
}
