package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpeechConfig(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if err := os.WriteFile(key, []byte("sote_abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "database: {url: postgres://x@h/db}\naudit: {enabled: false}\nhosts:\n  - url: http://h:1\n"
	load := func(extra string) (*Config, error) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(base+extra), 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(p, nil)
	}
	cfg, err := load("  - name: w\n    kind: transcription\n    url: http://w:8000\n    api_key_file: " + key + "\n    languages: [fi, sv]\n    labels: [gpu]\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.PoolHosts()) != 1 || cfg.Speech.MaxAudio <= 0 || !cfg.Speech.PocketSphinx.Enabled || cfg.Speech.EnglishVoice != "flite" {
		t.Fatalf("defaults: %+v", cfg.Speech)
	}
	pool, up, err := cfg.TranscriptionHosts()
	if err != nil || len(pool) != 1 || pool[0].Name != "w" || !pool[0].GPU() || up[0].APIKey != "sote_abc" || len(up[0].Languages) != 2 {
		t.Fatalf("%+v %+v %v", pool, up, err)
	}
	for _, tc := range []struct{ name, extra, key string }{
		{"only transcription hosts", "", ""},
		{"bad kind", "  - url: http://w:1\n    kind: tts\n", "hosts[1].kind"},
		{"transcription keys on an ollama host", "  - url: http://w:1\n    languages: [fi]\n", "hosts[1]"},
		{"missing key file", "  - url: http://w:1\n    kind: transcription\n    api_key_file: /nonexistent/k\n", "hosts[1].api_key_file"},
		{"bad health path", "  - url: http://w:1\n    kind: transcription\n    health_path: health\n", "hosts[1].health_path"},
		{"english voice", "speech:\n  english_voice: festival\n", "speech.english_voice"},
		{"espeak speed", "speech:\n  espeak:\n    speed: 5\n", "speech.espeak.speed"},
		{"max audio", "speech:\n  max_audio: 0s\n", "speech.max_audio"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "only transcription hosts" {
				p := filepath.Join(dir, "c.yaml")
				os.WriteFile(p, []byte("database: {url: postgres://x@h/db}\naudit: {enabled: false}\nhosts:\n  - url: http://w:1\n    kind: transcription\n"), 0o600)
				if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "Ollama host is required") {
					t.Fatalf("got %v", err)
				}
				return
			}
			if _, err := load(tc.extra); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %v does not name %q", err, tc.key)
			}
		})
	}
}
