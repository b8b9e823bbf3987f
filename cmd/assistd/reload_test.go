package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadHostsOnSIGHUP adds a host by editing the configuration and
// sending SIGHUP, then refuses a broken configuration while keeping the
// running one; both attempts are audit records.
func TestReloadHostsOnSIGHUP(t *testing.T) {
	url := ollamaURL(t)
	g := startGateway(t, hostYAML("h1", url, 2), auditYAML(t))
	cfg, err := os.ReadFile(g.CfgPath)
	if err != nil {
		t.Fatal(err)
	}
	reload := func(content string) {
		if err := os.WriteFile(g.CfgPath, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	added := strings.Replace(string(cfg), "hosts:\n", "hosts:\n"+hostYAML("h2", url, 3), 1)
	reload(added)
	g.waitHost(t, "h2", true, 10*time.Second)

	reload(added + "limits:\n  max_body_bytes: -1\n")
	countReloads := func() (ok, refused int) {
		err := g.DB.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE outcome = 'ok'), count(*) FILTER (WHERE outcome = 'refused')
			FROM audit_records WHERE kind = 'config.reload'`).Scan(&ok, &refused)
		if err != nil {
			t.Fatal(err)
		}
		return ok, refused
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ok, refused := countReloads(); ok == 1 && refused == 1 {
			break
		}
		if time.Now().After(deadline) {
			ok, refused := countReloads()
			t.Fatalf("config.reload records: %d ok, %d refused", ok, refused)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(g.hosts(t).Hosts); n != 2 {
		t.Fatalf("a refused reload changed the hosts: %d", n)
	}
	if !strings.Contains(g.Logs.String(), "limits.max_body_bytes") {
		t.Error("the refusal does not name the bad key in the log")
	}
}
