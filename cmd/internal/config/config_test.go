package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleLoads(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "..", "assistd.example.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hosts) != 2 || cfg.Hosts[0].Labels[0] != "gpu" || cfg.Queues.Batch.Timeout != 5*time.Minute || cfg.Queues.Realtime.FirstByte != 10*time.Second {
		t.Fatalf("unexpected: %+v", cfg)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "..", "assistd.example.yaml"), []string{
		"ASSIST_LISTEN=0.0.0.0:9000", "ASSIST_LIMITS_MAX_BODY_BYTES=1024", "ASSIST_OLLAMA_URLS=http://a:1,http://b:2",
		"ASSIST_AUDIT_ENABLED=false", "HOME=/x",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:9000" || cfg.Limits.MaxBodyBytes != 1024 || len(cfg.Hosts) != 4 || cfg.AuditEnabled() {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestValidationNamesTheKey(t *testing.T) {
	base := "database:\n  url: postgres://x@y/z\nhosts:\n  - url: http://h:1\naudit:\n  enabled: false\n"
	for _, tc := range []struct {
		name, yaml, wantKey string
	}{
		{"unknown key", base + "lisen: x\n", "lisen"},
		{"bad listen", base + "listen: nope\n", "listen"},
		{"no database", "hosts:\n  - url: http://h:1\n", "database.url"},
		{"no hosts", "database:\n  url: postgres://x@y/z\n", "hosts"},
		{"bad host url", "database:\n  url: postgres://x@y/z\nhosts:\n  - url: ftp://h\n", "hosts[0].url"},
		{"duplicate host", "database:\n  url: postgres://x@y/z\nhosts:\n  - url: http://h:1\n  - url: http://h:1\n", "hosts[1].name"},
		{"bad duration", base + "limits:\n  request_timeout: soon\n", "request_timeout"},
		{"zero queue", base + "queues:\n  batch: {limit: 0, timeout: 1s}\n", "queues.batch.limit"},
		{"tls half", base + "tls:\n  cert_file: a.pem\n", "tls"},
		{"audit keys", "database:\n  url: postgres://x@y/z\nhosts:\n  - url: http://h:1\n", "audit.hmac_key"},
		{"log level", base + "log:\n  level: loud\n", "log.level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("error %v does not name %q", err, tc.wantKey)
			}
		})
	}
}

func TestPriorityCeilings(t *testing.T) {
	dir := t.TempDir()
	write := func(extra string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte("database: {url: postgres://x@h/db}\nhosts: [{url: http://h:1}]\naudit: {enabled: false}\n"+extra), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := Load(write("auth:\n  max_priority: {service: realtime}\n  credential_max_priority: {tok_1: batch}\n  priority_over_ceiling: lower\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := cfg.PriorityPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if !pp.Lower || pp.ByRole["service"] != 0 || pp.ByCredential["tok_1"] != 2 || pp.ByRole["interpreter"] != 0 || pp.ByRole["clinician"] != 1 {
		t.Fatalf("policy %+v: the file's ceilings should join the defaults", pp)
	}
	for _, bad := range []string{
		"auth:\n  max_priority: {nurse: batch}\n",
		"auth:\n  max_priority: {clinician: urgent}\n",
		"auth:\n  priority_over_ceiling: maybe\n",
	} {
		if _, err := Load(write(bad), nil); err == nil || !strings.Contains(err.Error(), "auth.") {
			t.Errorf("%q: %v, want an error naming the auth key", bad, err)
		}
	}
}

func TestOllamaSignatureWindowIsShort(t *testing.T) {
	d := Default()
	if d.Auth.OllamaMaxSkew > time.Minute || d.Auth.OllamaKeysOverHTTP {
		t.Fatalf("Ollama key signatures: window %s, over plain HTTP %v; want a short window and HTTPS or loopback only",
			d.Auth.OllamaMaxSkew, d.Auth.OllamaKeysOverHTTP)
	}
}
