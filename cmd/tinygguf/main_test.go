package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soteai/gateway/models/ollama/tinygguf"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no dir", nil, "usage"},
		{"extra argument", []string{"-dir", dir, "x"}, "usage"},
		{"bad flag", []string{"-nope"}, "not defined"},
		{"invalid config", []string{"-dir", dir, "-num-predict", "0"}, "NumPredict"},
		{"writes", []string{"-dir", dir, "-seed", "3"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.TrimSpace(out.String()), filepath.Join(dir, tinygguf.Modelfile); got != want {
				t.Errorf("printed %q, want %q", got, want)
			}
			if _, err := os.Stat(filepath.Join(dir, tinygguf.ModelFile)); err != nil {
				t.Error(err)
			}
		})
	}
}
