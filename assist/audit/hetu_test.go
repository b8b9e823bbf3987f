package audit

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidHETU(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"1900s hyphen", "131052-308T", true},
		{"1900s new sign Y", "010594Y9032", true},
		{"1900s new sign U", "010594U9032", true},
		{"1800s plus", "010101+123N", true},
		{"2000s A", "010101A123N", true},
		{"2000s new sign B", "010101B123N", true},
		{"2000s new sign F", "010101F123N", true},
		{"lower-case control and sign", "010101b123n", true},
		{"temporary individual number 999", "010120A999U", true},
		{"31 December", "311299-500B", true},
		{"leap day 2000", "290200A002C", true},
		{"leap day 2004", "290204F123A", true},
		{"wrong checksum", "131052-308U", false},
		{"wrong checksum new sign", "010594Y9033", false},
		{"no leap day in 1900", "290200-002C", false},
		{"31 April", "310499-500B", false},
		{"month 13", "011399-500B", false},
		{"day 0", "000199-500B", false},
		{"individual number 001", "010101-001X", false},
		{"unknown century sign G", "010101G123N", false},
		{"too short", "131052-308", false},
		{"too long", "131052-308TT", false},
		{"letters in date", "13105A-308T", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidHETU(tt.in); got != tt.want {
				t.Errorf("ValidHETU(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFindHETU(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"none", "Potilaalla ei ole tunnusta.", nil},
		{"one in a sentence", "Potilas 131052-308T tuli vastaanotolle.", []string{"131052-308T"}},
		{"two, new signs", "131052-308T ja 010594Y9032, äiti 010101b123n.", []string{"131052-308T", "010594Y9032", "010101B123N"}},
		{"start and end of text", "131052-308T", []string{"131052-308T"}},
		{"after punctuation", "(hetu:131052-308T)", []string{"131052-308T"}},
		{"after a letter", "hetu131052-308T", []string{"131052-308T"}},
		{"glued to a preceding digit", "9131052-308T", nil},
		{"glued to a following letter", "131052-308TA", nil},
		{"glued to a following digit", "131052-308T1", nil},
		{"bad checksum is ignored", "131052-308U", nil},
		{"non-ASCII around", "ö131052-308Tä", []string{"131052-308T"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FindHETU(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FindHETU = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedactHETU(t *testing.T) {
	in := "A 131052-308T, B 010594Y9032."
	if got := RedactHETU(in, nil); got != "A [HETU], B [HETU]." {
		t.Errorf("RedactHETU = %q", got)
	}
	key := []byte(strings.Repeat("k", 32))
	got := redactWith(key, in)
	if len(FindHETU(got)) != 0 || !strings.Contains(got, "[hetu:") {
		t.Errorf("redactWith = %q", got)
	}
	if redactWith(key, "131052-308t") != redactWith(key, "131052-308T") {
		t.Error("redaction tag depends on case")
	}
}

func FuzzFindHETU(f *testing.F) {
	f.Add("Potilas 131052-308T tuli")
	f.Add("010594Y9032010101A123N")
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range FindHETUIndex(s) {
			if !ValidHETU(s[loc[0]:loc[1]]) {
				t.Fatalf("found an invalid code at %v", loc)
			}
		}
		if out := RedactHETU(s, nil); len(FindHETU(out)) != 0 {
			t.Fatalf("redaction left a code")
		}
	})
}
