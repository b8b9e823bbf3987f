// Package browsertest drives Debian's headless Chromium from go test, so
// every page people open is tested on the user's real path. It is the
// only importer of chromedp.
//
// Without a chromium binary a test skips with a clear message, except
// under CI=true, where it fails: a missing browser never gives a green
// build. Screenshots are kept as test artefacts: in the test's temporary
// directory and, when TEST_ARTIFACTS_DIR is set, copied there.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Options configure the browser.
type Options struct {
	// FakeMicrophone is a WAV file the browser plays as its microphone,
	// once (then silence), with the permission prompt accepted.
	FakeMicrophone string
	// Timeout bounds each step (default 30 s).
	Timeout time.Duration
	// Width and Height of the window (default 1280×900).
	Width, Height int
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration
}

// Binary finds Chromium: $CHROMIUM, then chromium and chromium-browser on
// PATH. It returns "" when none is installed.
func Binary() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// New starts Chromium for t and closes it at cleanup.
func New(t testing.TB, o Options) *Browser {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browsertest: chromium is not installed: the real browser is required under CI=true (scripts/setup.sh installs it)")
		}
		t.Skip("browsertest: chromium is not installed; run scripts/setup.sh")
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 900
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	if o.FakeMicrophone != "" {
		abs, err := filepath.Abs(o.FakeMicrophone)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts,
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("use-fake-device-for-media-stream", true),
			chromedp.Flag("use-file-for-fake-audio-capture", abs+"%noloop"),
		)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{t: t, timeout: o.Timeout}
	ctx, cancel := chromedp.NewContext(actx)
	b.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("browsertest: start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return b
}

func (b *Browser) run(what string, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		return fmt.Errorf("browsertest: %s: %w", what, err)
	}
	return nil
}

// value runs one action that returns a value, with the step timeout.
func value[T any](b *Browser, what string, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		return v, fmt.Errorf("browsertest: %s: %w", what, err)
	}
	return v, nil
}

func (b *Browser) must(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := b.run(what, actions...); err != nil {
		b.Screenshot("failure-" + safeName(what))
		b.t.Fatal(err)
	}
}

// Navigate opens url and waits for the page's load event.
func (b *Browser) Navigate(url string) { b.t.Helper(); b.must("navigate "+url, chromedp.Navigate(url)) }

// WaitVisible waits until the element matched by the CSS selector is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.must("wait visible "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitGone waits until no element matches sel or it is not visible.
func (b *Browser) WaitGone(sel string) {
	b.t.Helper()
	b.must("wait not visible "+sel, chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// Click clicks the element matched by sel.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.must("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// SetValue sets an input's value (and fires input/change events).
func (b *Browser) SetValue(sel, v string) {
	b.t.Helper()
	b.must("set value "+sel, chromedp.SetValue(chromedp.CSS(sel), v),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(()=>{const e=document.querySelector(%q);e.dispatchEvent(new Event("input",{bubbles:true}));e.dispatchEvent(new Event("change",{bubbles:true}));})()`, sel)))
}

// Type focuses sel and types text as key events.
func (b *Browser) Type(sel, text string) {
	b.t.Helper()
	b.must("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// Text returns the visible text of the element matched by sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := value(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		b.Screenshot("failure-text")
		b.t.Fatal(err)
	}
	return s
}

// Eval evaluates a JavaScript expression and returns its value decoded
// from JSON into T.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := value(b, "eval", chromedp.Evaluate[T](expr))
	if err != nil {
		b.Screenshot("failure-eval")
		b.t.Fatal(err)
	}
	return v
}

// WaitFor polls a JavaScript boolean expression until it is true or
// timeout passes (0: the browser's step timeout). It reports whether it
// became true.
func (b *Browser) WaitFor(expr string, timeout time.Duration) bool {
	b.t.Helper()
	if timeout <= 0 {
		timeout = b.timeout
	}
	deadline := time.Now().Add(timeout)
	for {
		if ok, err := value(b, "poll", chromedp.Evaluate[bool]("!!("+expr+")")); err == nil && ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Screenshot saves a full-page PNG named name.png as a test artefact and
// returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png, err := value(b, "screenshot", chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Logf("browsertest: screenshot %s: %v", name, err)
		return ""
	}
	file := safeName(b.t.Name()) + "-" + safeName(name) + ".png"
	p := filepath.Join(b.t.TempDir(), file)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("browsertest: %v", err)
		return ""
	}
	if dir := os.Getenv("TEST_ARTIFACTS_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			q := filepath.Join(dir, file)
			if err := os.WriteFile(q, png, 0o644); err == nil {
				p = q
			}
		}
	}
	b.t.Logf("browsertest: screenshot %s", p)
	return p
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
