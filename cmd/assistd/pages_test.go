package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/cmd/assistd/internal/browsertest"
)

// TestPagesHome signs in on the gateway's home page in a real browser, the
// way every page starts, and checks the pages' security headers.
func TestPagesHome(t *testing.T) {
	t.Parallel()
	g := startGateway(t, hostYAML("a", ollamaURL(t), 2), "")

	resp := g.do(t, "", "GET", "/ui/home/", "")
	body := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "token-form") {
		t.Fatalf("GET /ui/home/: %d %.200s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if r := g.do(t, "", "GET", "/ui/common/api.js", ""); r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("api.js Content-Type = %q", r.Header.Get("Content-Type"))
	}
	if r := g.do(t, "", "GET", "/ui/nope/x.html", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("missing page: %d", r.StatusCode)
	}

	b := browsertest.New(t, browsertest.Options{})
	b.Navigate(g.URL + "/ui/")
	b.WaitVisible("#token-form")
	b.SetValue("#ui-lang", "fi")
	if got := b.Text("h1"); got != "SOTE-tekoälyyhdyskäytävä" {
		t.Errorf("Finnish title = %q", got)
	}
	b.SetValue("#token", "not-a-token")
	b.Click("#token-form button")
	b.WaitVisible("#error")
	b.SetValue("#token", g.Tokens[assist.RoleClinician])
	b.Click("#token-form button")
	b.WaitVisible("#who")
	if got := b.Text("#who-role"); got != "clinician" {
		t.Errorf("role shown = %q", got)
	}
	b.Screenshot("signed-in")
}
