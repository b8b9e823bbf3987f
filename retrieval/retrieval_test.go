package retrieval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	goldenfile "github.com/soteai/gateway/assist/golden"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/retrieval/retrievaltest"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata/golden", name), got)
}

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkOffsets asserts the citation contract: every chunk's text is exactly
// the code points [Start, End) of the document text.
func checkOffsets(t *testing.T, text string, chunks []Chunk) {
	t.Helper()
	runes := []rune(text)
	for _, c := range chunks {
		if c.Start < 0 || c.End > len(runes) || c.Start >= c.End {
			t.Fatalf("chunk %d: bad offsets [%d,%d) for %d characters", c.Ord, c.Start, c.End, len(runes))
		}
		if got := string(runes[c.Start:c.End]); got != c.Text {
			t.Fatalf("chunk %d: text[%d:%d] = %q, chunk text %q", c.Ord, c.Start, c.End, got, c.Text)
		}
	}
}

func TestParseCorpusGolden(t *testing.T) {
	for _, name := range []string{"verenpaine.md", "diabetes_sv.md", "falls_en.html", "tulkkaus_sanasto.txt"} {
		t.Run(name, func(t *testing.T) {
			data := readCorpus(t, name)
			format, err := DetectFormat(name, data)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(context.Background(), format, data, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			chunks := ChunkDocument(p, ChunkOptions{MaxChars: 300, OverlapChars: 80})
			checkOffsets(t, p.Text, chunks)
			var out bytes.Buffer
			fmt.Fprintf(&out, "format: %s\ntitle: %s\nlang: %s\n", p.Format, p.Title, DetectLang(p.Text))
			for _, h := range p.Headings {
				fmt.Fprintf(&out, "heading %d %q at %d\n", h.Level, h.Title, utf8.RuneCountInString(p.Text[:h.Start]))
			}
			for _, c := range chunks {
				fmt.Fprintf(&out, "\n--- chunk %d [%d,%d) %s\n%s\n", c.Ord, c.Start, c.End, strings.Join(c.HeadingPath, " > "), c.Text)
			}
			fmt.Fprintf(&out, "\n=== normalised text ===\n%s\n", p.Text)
			golden(t, name+".golden", out.Bytes())
		})
	}
}

func TestParseErrors(t *testing.T) {
	big := bytes.Repeat([]byte("verenpaine "), (50<<20)/11+1) // just over 50 MB
	latin1 := []byte("Verenpaine on p\xe4\xe4asiassa mitattava arvo.")
	utf16 := append([]byte{0xFF, 0xFE}, []byte("V\x00e\x00r\x00i\x00 \x00\xe4\x00")...)
	tests := []struct {
		name    string
		format  Format
		data    []byte
		opt     ParseOptions
		kind    assist.Kind
		message string
		text    string // expected normalised text when no error
	}{
		{name: "empty", format: FormatText, data: nil, kind: assist.KindInvalid, message: "empty"},
		{name: "whitespace only", format: FormatMarkdown, data: []byte(" \n\t\n"), kind: assist.KindInvalid, message: "empty"},
		{name: "binary garbage", format: FormatText, data: []byte{0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 1, 2, 3}, kind: assist.KindInvalid, message: "binary"},
		{name: "invalid utf-8", format: FormatText, data: latin1, kind: assist.KindInvalid, message: "not valid UTF-8"},
		{name: "unknown declared encoding", format: FormatText, data: []byte("abc"), opt: ParseOptions{Charset: "x-klingon"}, kind: assist.KindInvalid, message: "unknown character encoding"},
		{name: "declared latin-1", format: FormatText, data: latin1, opt: ParseOptions{Charset: "iso-8859-1"}, text: "Verenpaine on pääasiassa mitattava arvo."},
		{name: "utf-16 with BOM", format: FormatText, data: utf16, text: "Veri ä"},
		{name: "html meta charset", format: FormatHTML, data: []byte("<meta charset=\"windows-1252\"><p>K\xe4ypt\xe4v\xe4</p>"), text: "Käyptävä"},
		{name: "over 50 MB", format: FormatText, data: big, kind: assist.KindTooLarge, message: "larger than the limit of 32 MiB"},
		{name: "text limit", format: FormatText, data: []byte("abcdef"), opt: ParseOptions{MaxChars: 3}, kind: assist.KindTooLarge, message: "too much text"},
		{name: "pdf without magic", format: FormatPDF, data: []byte("hello"), opt: ParseOptions{PDF: PDFToText{}}, kind: assist.KindInvalid, message: "not a PDF"},
		{name: "pdf unsupported", format: FormatPDF, data: []byte("%PDF-1.4"), kind: assist.KindInvalid, message: "not supported"},
		{name: "html without text", format: FormatHTML, data: []byte("<html><script>x()</script></html>"), kind: assist.KindInvalid, message: "no text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(context.Background(), tt.format, tt.data, tt.opt)
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Text != tt.text {
					t.Fatalf("text = %q, want %q", p.Text, tt.text)
				}
				return
			}
			if assist.KindOf(err) != tt.kind || !strings.Contains(assist.MessageOf(err), tt.message) {
				t.Fatalf("err = %v (kind %s, message %q), want kind %s with %q", err, assist.KindOf(err), assist.MessageOf(err), tt.kind, tt.message)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		data string
		want Format
		err  bool
	}{
		{"a.md", "", FormatMarkdown, false},
		{"a.TXT", "", FormatText, false},
		{"a.htm", "", FormatHTML, false},
		{"a.pdf", "", FormatPDF, false},
		{"a.docx", "", "", true},
		{"upload", "%PDF-1.7 ...", FormatPDF, false},
		{"upload", "  <!DOCTYPE html><p>x", FormatHTML, false},
		{"upload", "plain", FormatText, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+string(tt.want), func(t *testing.T) {
			got, err := DetectFormat(tt.name, []byte(tt.data))
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("DetectFormat = %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"crlf and bom", "\uFEFFa\r\nb\rc", "a\nb\nc"},
		{"blank lines collapse", "a\n\n\n\nb", "a\n\nb"},
		{"trailing spaces", "a  \t\nb ", "a\nb"},
		{"leading blank lines", "\n\n  \na", "a"},
		{"nfc", "a\u0308", "ä"},
		{"controls dropped", "a\x01b\u00ADc", "abc"},
		{"form feed is a paragraph", "page1\fpage2", "page1\n\npage2"},
		{"nbsp becomes space", "a\u00A0b", "a b"},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Normalize(tt.want); got != tt.want {
				t.Fatalf("Normalize is not idempotent on %q: %q", tt.want, got)
			}
		})
	}
}

func TestMarkdownHeadings(t *testing.T) {
	text := "# Title #\n\nIntro\n\nSetext\n======\n\n```\n# not a heading\n```\n\n- item\n---\n\n#nospace\n\n   ### Deep **bold**\n\nPara line\nSub\n---"
	var got []string
	for _, h := range markdownHeadings(text) {
		got = append(got, fmt.Sprintf("%d:%s", h.Level, h.Title))
	}
	want := []string{"1:Title", "1:Setext", "3:Deep bold"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("headings = %q, want %q", got, want)
	}
}

func TestChunkingLimitsAndOverlap(t *testing.T) {
	sentence := "Tämä on testilause, jossa on ääkkösiä ja numeroita 123. "
	long := strings.Repeat(sentence, 40) // one long paragraph
	word := strings.Repeat("x", 250)     // a run without spaces
	text := "# Otsikko\n\n" + long + "\n\n## Ali\n\n" + word + "\n\nLyhyt kappale."
	p := &Parsed{Format: FormatMarkdown, Text: Normalize(text)}
	p.Headings = markdownHeadings(p.Text)
	opt := ChunkOptions{MaxChars: 200, OverlapChars: 60}
	chunks := ChunkDocument(p, opt)
	checkOffsets(t, p.Text, chunks)
	overlaps := 0
	for i, c := range chunks {
		if n := utf8.RuneCountInString(c.Text); n > 200 {
			t.Errorf("chunk %d has %d characters, limit 200", i, n)
		}
		if strings.Contains(c.Text, "Otsikko") || strings.Contains(c.Text, "## Ali") {
			t.Errorf("chunk %d contains a heading line", i)
		}
		if i > 0 && c.Start < chunks[i-1].End {
			overlaps++
			if chunks[i-1].End-c.Start > 60 {
				t.Errorf("chunk %d overlaps by %d characters, limit 60", i, chunks[i-1].End-c.Start)
			}
			if !reflect.DeepEqual(c.HeadingPath, chunks[i-1].HeadingPath) {
				t.Errorf("chunk %d overlaps across a heading", i)
			}
		}
		if i > 0 && c.Start <= chunks[i-1].Start {
			t.Errorf("chunk %d does not advance", i)
		}
	}
	if overlaps == 0 {
		t.Error("no overlapping chunks in a long paragraph")
	}
	last := chunks[len(chunks)-1]
	if !reflect.DeepEqual(last.HeadingPath, []string{"Otsikko", "Ali"}) || !strings.HasSuffix(last.Text, "Lyhyt kappale.") {
		t.Errorf("last chunk = %+v", last)
	}
	// Deterministic: the same input gives the same chunks and hashes.
	if again := ChunkDocument(p, opt); !reflect.DeepEqual(again, chunks) {
		t.Error("chunking is not deterministic")
	}
}

func TestChunkingPrefersParagraphs(t *testing.T) {
	para := strings.Repeat("Lause on tässä. ", 8) // 128 characters
	text := strings.TrimSpace(para) + "\n\n" + strings.TrimSpace(para) + "\n\n" + strings.TrimSpace(para)
	p := &Parsed{Format: FormatText, Text: text}
	chunks := ChunkDocument(p, ChunkOptions{MaxChars: 300, OverlapChars: 50})
	checkOffsets(t, text, chunks)
	if len(chunks) != 2 || strings.Contains(chunks[0].Text, "\n\n") != true || strings.Contains(chunks[1].Text, "\n") {
		for _, c := range chunks {
			t.Logf("[%d,%d) %q", c.Start, c.End, c.Text)
		}
		t.Fatal("want two chunks cut at a paragraph break, without overlap")
	}
	if chunks[1].Start < chunks[0].End {
		t.Error("chunks cut at a paragraph break must not overlap")
	}
}

func TestDetectLang(t *testing.T) {
	tests := map[string]string{
		"verenpaine.md":        "fi",
		"diabetes_sv.md":       "sv",
		"falls_en.html":        "en",
		"tulkkaus_sanasto.txt": "fi",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			data := readCorpus(t, name)
			f, _ := DetectFormat(name, data)
			p, err := Parse(context.Background(), f, data, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := DetectLang(p.Text); got != want {
				t.Fatalf("DetectLang = %q, want %q", got, want)
			}
		})
	}
	if got := DetectLang("ok"); got != LangUndetermined {
		t.Errorf("DetectLang(short) = %q, want und", got)
	}
}

func TestTextSearchConfig(t *testing.T) {
	for lang, want := range map[string]string{"fi": "finnish", "sv": "swedish", "en": "english", "und": "simple", "et": "simple", "": "simple"} {
		if got := TextSearchConfig(lang); got != want {
			t.Errorf("TextSearchConfig(%q) = %q, want %q", lang, got, want)
		}
	}
}

func TestFuseRRF(t *testing.T) {
	tests := []struct {
		name  string
		lists [][]int64
		want  []int64
	}{
		{"symmetric ranks tie, broken by id", [][]int64{{1, 2, 3}, {3, 2, 1}}, []int64{1, 3, 2}},
		{"agreement wins", [][]int64{{1, 2, 3}, {2, 4, 5}}, []int64{2, 1, 4, 3, 5}},
		{"one list only", [][]int64{{5, 6}, nil}, []int64{5, 6}},
		{"found by both beats top of one", [][]int64{{1, 2}, {3, 2}}, []int64{2, 1, 3}},
		{"duplicates count once", [][]int64{{7, 7, 8}}, []int64{7, 8}},
		{"empty", nil, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []int64{}
			for _, f := range FuseRRF(0, tt.lists...) {
				got = append(got, f.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("FuseRRF = %v, want %v", got, tt.want)
			}
		})
	}
	f := FuseRRF(60, []int64{1}, []int64{1})
	if want := 2.0 / 61; f[0].Score != want || !reflect.DeepEqual(f[0].Ranks, []int{1, 1}) {
		t.Fatalf("score %v ranks %v, want %v [1 1]", f[0].Score, f[0].Ranks, want)
	}
}

func TestPDFToText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext (poppler-utils) is required under CI=true")
		}
		t.Skip("pdftotext not installed (scripts/setup.sh installs poppler-utils)")
	}
	pdf := retrievaltest.PDF([]string{"Hyponatremia in older adults", "Plasma sodium under 135 mmol/l. Thiazides and SSRIs raise the risk."},
		[]string{"Page two: check sodium after two weeks. Äiti ja isä."})
	p, err := Parse(context.Background(), FormatPDF, pdf, ParseOptions{PDF: PDFToText{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Plasma sodium under 135 mmol/l.", "Page two: check sodium", "Äiti ja isä."} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text %q lacks %q", p.Text, want)
		}
	}
	if !strings.Contains(p.Text, "raise the risk.\n\nPage two") {
		t.Errorf("pages are not separated by a blank line: %q", p.Text)
	}
	_, err = Parse(context.Background(), FormatPDF, []byte("%PDF-1.4\n%garbage that is no pdf\n"), ParseOptions{PDF: PDFToText{}})
	if assist.KindOf(err) != assist.KindInvalid {
		t.Fatalf("broken PDF: %v, want invalid", err)
	}
	_, err = Parse(context.Background(), FormatPDF, []byte("%PDF-1.4"), ParseOptions{PDF: PDFToText{Path: "/nonexistent/pdftotext"}})
	if assist.KindOf(err) != assist.KindUnavailable {
		t.Fatalf("missing pdftotext: %v, want unavailable", err)
	}
}

func TestEmbedTextAndSignature(t *testing.T) {
	if got := EmbedText("T", []string{"A", "B"}, "x"); got != "A > B\n\nx" {
		t.Errorf("EmbedText = %q", got)
	}
	if got := EmbedText("T", nil, "x"); got != "T\n\nx" {
		t.Errorf("EmbedText without path = %q", got)
	}
	if a, b := (ChunkOptions{}).Signature(), (ChunkOptions{MaxChars: 1000, OverlapChars: 150}).Signature(); a != b {
		t.Errorf("defaults %q != explicit %q", a, b)
	}
	b, _ := json.Marshal(Scores{RRF: 0.5})
	if string(b) != `{"rrf":0.5}` {
		t.Errorf("Scores JSON = %s", b)
	}
}
