package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/soteai/gateway/assist"
)

// The priority class is a privilege: a request above the caller's ceiling
// is refused with 403, or served at the ceiling when so configured, and
// the class used is in the answer and the audit record.
func TestPriorityCeiling(t *testing.T) {
	body := fmt.Sprintf(`{"model":%q,"prompt":%q,"stream":false,"options":{"num_predict":2}}`, testModel(), promptMarker)
	t.Run("refuse", func(t *testing.T) {
		g := startGateway(t, hostYAML("h", ollamaURL(t), 2), "")
		for _, tc := range []struct {
			role   assist.Role
			prio   string
			status int
		}{
			{assist.RoleClinician, "realtime", http.StatusForbidden},
			{assist.RoleService, "realtime", http.StatusForbidden},
			{assist.RoleClinician, "interactive", http.StatusOK},
			{assist.RoleClinician, "batch", http.StatusOK},
			{assist.RoleInterpreter, "realtime", http.StatusOK},
		} {
			resp := g.do(t, tc.role, "POST", "/api/generate", body, "X-Sote-Priority", tc.prio)
			out := readAll(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s asking for %s: %d %s, want %d", tc.role, tc.prio, resp.StatusCode, out, tc.status)
			}
			if tc.status == http.StatusForbidden {
				var e struct{ Kind, Error string }
				_ = json.Unmarshal([]byte(out), &e)
				if e.Kind != string(assist.KindForbidden) || e.Error == "" {
					t.Fatalf("refusal body %s: want kind forbidden and a message", out)
				}
			} else if got := resp.Header.Get("X-Sote-Priority"); got != tc.prio {
				t.Fatalf("class used %q, want %q", got, tc.prio)
			}
		}
	})
	t.Run("lower", func(t *testing.T) {
		ay := auditYAML(t)
		g := startGateway(t, hostYAML("h", ollamaURL(t), 2), ay+"auth:\n  priority_over_ceiling: lower\n")
		resp := g.do(t, assist.RoleClinician, "POST", "/api/generate", body, "X-Sote-Priority", "realtime")
		out := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Sote-Priority") != "interactive" {
			t.Fatalf("lowered request: %d %q %s", resp.StatusCode, resp.Header.Get("X-Sote-Priority"), out)
		}
		rec := auditRecord(t, g, resp.Header.Get("X-Sote-Audit-Seq"))
		if rec.Attrs["priority"] != "interactive" || rec.Attrs["priority_requested"] != "realtime" {
			t.Fatalf("audit attrs %v: want the class used and the one requested", rec.Attrs)
		}
	})
}
