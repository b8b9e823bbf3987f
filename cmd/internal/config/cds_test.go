package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCDSClients(t *testing.T) {
	dir := t.TempDir()
	jwksPath := filepath.Join(dir, "ehr.jwks.json")
	if err := os.WriteFile(jwksPath, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "database:\n  url: postgres://x@y/z\nhosts:\n  - url: http://h:1\naudit:\n  enabled: false\n"
	client := "cds:\n  base_url: https://gw.example.fi/\n  clients:\n    - name: ehr\n      issuer: https://ehr.example.fi\n      jwks_file: " + jwksPath + "\n"
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"file read", base + client, ""},
		{"no base url", base + "cds:\n  clients:\n    - name: ehr\n      issuer: https://e\n      jwks: '{}'\n", "cds.base_url"},
		{"both jwks", base + client + "      jwks: '{}'\n", "exactly one of jwks_file and jwks"},
		{"missing file", base + strings.Replace(client, jwksPath, jwksPath+".nope", 1), "cds.clients[0].jwks_file"},
		{"duplicate issuer", base + client + "    - name: ehr2\n      issuer: https://ehr.example.fi\n      jwks: '{}'\n", "issuer registered twice"},
		{"lifetime", base + "cds:\n  max_token_lifetime: 2h\n", "cds.max_token_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p, nil)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.CDS.BaseURL != "https://gw.example.fi" || cfg.CDS.Clients[0].JWKS != `{"keys":[]}` || cfg.CDS.AllowBearerTokens {
					t.Errorf("cds = %+v", cfg.CDS)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
