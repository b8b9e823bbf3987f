package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/cmd/assistd/internal/browsertest"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/speech/speechtest"
)

// TestInterpretPage is the interpretation page in a real browser through
// the real gateway: flite's English speech is the microphone (AudioWorklet
// at 16 kHz), PocketSphinx recognises it, the real Ollama model translates
// it into Finnish (nonsense: the structure is checked, not the meaning),
// espeak-ng speaks it; the interpreter corrects the translation, stops,
// and the bilingual transcript appears.
func TestInterpretPage(t *testing.T) {
	requireSpeechEngines(t)
	sox := speechtest.Require(t, "sox")
	const said = "the patient has a fever and a cough"
	dir := t.TempDir()
	raw, mic := filepath.Join(dir, "flite.wav"), filepath.Join(dir, "mic.wav")
	if err := os.WriteFile(raw, speechtest.FliteWAV(t, said), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sox, raw, mic, "pad", "0.8", "2").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	g := startGateway(t, hostYAML("h1", ollamaURL(t), 4), auditYAML(t)+"models:\n  chat: "+testModel()+"\n  embedding: "+testModel()+"\n")
	loadGlossary(t, g, "tico19")

	b := browsertest.New(t, browsertest.Options{FakeMicrophone: mic, Timeout: 60 * time.Second})
	b.Navigate(g.URL + "/ui/home/")
	b.WaitVisible("#token-form")
	b.SetValue("#token", g.Tokens[assist.RoleInterpreter])
	b.Click("#token-form button")
	b.WaitVisible(`#pages a[href="/ui/interpret/"]`)
	b.Click(`#pages a[href="/ui/interpret/"]`)
	b.WaitVisible("#app")
	b.SetValue("#ui-lang", "fi")
	if got := b.Text("h1"); got != "Tulkkaus" {
		t.Errorf("Finnish title %q", got)
	}
	b.SetValue("#lang-a", "en")
	b.SetValue("#lang-b", "fi")
	b.Click("#listen-b") // no Finnish recogniser on the test machine: the patient reads and listens
	b.SetValue("#glossary", "tico19")
	b.Click("#start")
	if !b.WaitFor(`document.querySelector("#segments-0 li.spoken audio.speech")`, 60*time.Second) {
		b.Screenshot("no-speech")
		t.Fatalf("no synthesized speech; error: %q", browsertest.Eval[string](b, `document.getElementById("error").textContent`))
	}
	heard := b.Text("#segments-0 li .said")
	ec, err := evals.WordErrors([]string{said}, []string{normWords(heard)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the page heard %q: WER %.2f", heard, ec.ErrorRate())
	if ec.ErrorRate() >= 0.4 {
		t.Errorf("WER %.2f, want < 0.40", ec.ErrorRate())
	}
	if tr := b.Text("#segments-0 li .translation .text"); strings.TrimSpace(tr) == "" {
		t.Error("empty translation")
	}
	ms, _ := strconv.Atoi(browsertest.Eval[string](b, `document.querySelector("#segments-0 li.spoken audio.speech").dataset.durationMs`))
	if ms < 300 {
		t.Errorf("synthesized speech of %d ms", ms)
	}
	// The WAV really decodes in the browser, with its stated length.
	if !b.WaitFor(`(a => a.readyState >= 1 && a.duration > 0.3)(document.querySelector("#segments-0 li.spoken audio.speech"))`, 10*time.Second) {
		t.Error("the browser could not load the synthesized WAV")
	}

	// The interpreter corrects the translation with the keyboard-usable form.
	seg := browsertest.Eval[string](b, `document.querySelector("#segments-0 li.spoken").dataset.segment`)
	b.Click("#segments-0 li.spoken button.edit")
	b.SetValue("#correct-segment", seg)
	b.SetValue("#correct-field", "translation")
	b.SetValue("#correct-text", "Potilaalla on kuumetta ja yskää.")
	b.Click("#correct-send")
	b.WaitVisible("#segments-0 li.was-corrected .corrected")
	if got := b.Text("#segments-0 li.was-corrected .translation .text"); got != "Potilaalla on kuumetta ja yskää." {
		t.Errorf("corrected translation shown as %q", got)
	}
	b.Click("#stop")
	b.WaitVisible("#transcript-box")
	if !b.WaitFor(`document.body.dataset.state === "ended"`, 20*time.Second) {
		t.Error("the session did not end")
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll("#transcript li").length`); n < 1 {
		t.Errorf("%d transcript turns", n)
	}
	if e := browsertest.Eval[string](b, `document.getElementById("error").textContent`); e != "" {
		t.Errorf("the page shows an error: %q", e)
	}
	b.Screenshot("interpretation")

	edits := 0
	for _, r := range auditEntries(t, g, "review") {
		if attrs, _ := r["attrs"].(map[string]any); r["outcome"] == "edited" && attrs["edit"] == "interpret.correction" && r["actor_role"] == "interpreter" {
			edits++
		}
	}
	if edits != 1 {
		t.Errorf("%d audited corrections, want 1", edits)
	}
}
