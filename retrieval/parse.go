package retrieval

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/unicode/norm"

	"github.com/soteai/gateway/assist"
)

// Format is a document's source format.
type Format string

const (
	FormatMarkdown Format = "markdown"
	FormatText     Format = "text"
	FormatHTML     Format = "html"
	FormatPDF      Format = "pdf"
)

// ParseFormat validates a format name; "" means "detect".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatMarkdown, FormatText, FormatHTML, FormatPDF:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	case "txt":
		return FormatText, nil
	}
	return "", assist.Errorf(assist.KindInvalid, "unknown document format %q (want markdown, text, html or pdf)", s)
}

// DetectFormat picks a format from the file name's extension, falling back
// to the content's first bytes. It refuses formats it cannot read.
func DetectFormat(name string, data []byte) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown", ".mdown":
		return FormatMarkdown, nil
	case ".txt", ".text":
		return FormatText, nil
	case ".html", ".htm", ".xhtml":
		return FormatHTML, nil
	case ".pdf":
		return FormatPDF, nil
	case "":
	default:
		return "", assist.Errorf(assist.KindInvalid, "unsupported file type %q (want .md, .txt, .html or .pdf)", filepath.Ext(name))
	}
	head := data[:min(len(data), 512)]
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return FormatPDF, nil
	case looksHTML(head):
		return FormatHTML, nil
	}
	return FormatText, nil
}

func looksHTML(head []byte) bool {
	h := strings.ToLower(strings.TrimSpace(string(head)))
	return strings.HasPrefix(h, "<!doctype html") || strings.HasPrefix(h, "<html")
}

// Heading is a heading line found in a normalised text.
type Heading struct {
	Level int    // 1–6
	Title string // the heading's text, markup removed
	Start int    // byte offset of the heading line in Parsed.Text
	End   int    // byte offset just past the heading line (before its newline)
}

// Parsed is a document after extraction and normalisation.
type Parsed struct {
	Format   Format
	Title    string    // from the document (first H1, <title>) or "" if none
	Text     string    // normalised text: every offset refers to it
	Headings []Heading // in document order; none for plain text and PDF
}

// ParseOptions limits and adjusts parsing.
type ParseOptions struct {
	// MaxBytes is the largest accepted input; larger inputs are refused
	// with too_large. 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxChars is the largest accepted normalised text, in characters.
	// 0 means DefaultMaxChars.
	MaxChars int
	// Charset is the declared character encoding of a text, Markdown or
	// HTML document (e.g. "windows-1252"); "" means UTF-8 (UTF-16 and
	// UTF-32 with a byte-order mark are recognised, and HTML may declare
	// its own charset in a meta tag).
	Charset string
	// PDF extracts the text layer of PDF documents; nil refuses PDFs.
	PDF PDFExtractor
}

const (
	DefaultMaxBytes = 32 << 20  // 32 MiB of input
	DefaultMaxChars = 4_000_000 // about 2,000 pages of text
)

// Parse checks, decodes, extracts and normalises one document. It returns
// invalid for empty, binary or undecodable input and too_large for input
// over the limits; the message names the problem without quoting content.
func Parse(ctx context.Context, format Format, data []byte, opt ParseOptions) (*Parsed, error) {
	const op = "retrieval.Parse"
	maxBytes := opt.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	maxChars := opt.MaxChars
	if maxChars <= 0 {
		maxChars = DefaultMaxChars
	}
	if int64(len(data)) > maxBytes {
		return nil, assist.E(assist.KindTooLarge, op, tooLargeMessage(maxBytes))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, assist.E(assist.KindInvalid, op, "the document is empty")
	}
	var raw, htmlTitle string
	switch format {
	case FormatPDF:
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			return nil, assist.E(assist.KindInvalid, op, "the file is not a PDF document")
		}
		if opt.PDF == nil {
			return nil, assist.E(assist.KindInvalid, op, "PDF documents are not supported by this server")
		}
		text, err := opt.PDF.ExtractText(ctx, data)
		if err != nil {
			return nil, assist.E(op, err)
		}
		if !utf8.ValidString(text) {
			return nil, assist.E(assist.KindInvalid, op, "the PDF's text layer is not valid text")
		}
		raw = text
	case FormatMarkdown, FormatText, FormatHTML:
		charset := opt.Charset
		if charset == "" && format == FormatHTML {
			charset = htmlDeclaredCharset(data)
		}
		text, err := decode(data, charset)
		if err != nil {
			return nil, assist.E(op, err)
		}
		if format == FormatHTML {
			text, htmlTitle, err = htmlToText(text)
			if err != nil {
				return nil, assist.E(op, err)
			}
		}
		raw = text
	default:
		return nil, assist.E(assist.KindInvalid, op, "unknown document format")
	}
	p := &Parsed{Format: format, Text: Normalize(raw)}
	if strings.TrimSpace(p.Text) == "" {
		if format == FormatPDF {
			return nil, assist.E(assist.KindInvalid, op, "the PDF has no text layer (a scanned document needs OCR first)")
		}
		return nil, assist.E(assist.KindInvalid, op, "the document has no text")
	}
	if n := utf8.RuneCountInString(p.Text); n > maxChars {
		return nil, assist.E(assist.KindTooLarge, op, "the document has too much text to index; split it into smaller documents")
	}
	if format == FormatMarkdown || format == FormatHTML {
		p.Headings = markdownHeadings(p.Text)
		for _, h := range p.Headings {
			if h.Level == 1 {
				p.Title = h.Title
				break
			}
		}
	}
	if htmlTitle != "" {
		p.Title = htmlTitle
	}
	return p, nil
}

func tooLargeMessage(max int64) string {
	return "the document is larger than the limit of " + humanBytes(max)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// decode turns bytes into valid UTF-8 text. Without a declared charset the
// input must be UTF-8 (or UTF-16/32 with a byte-order mark); anything else is
// refused, because guessing a legacy code page silently corrupts Finnish
// and Swedish letters.
func decode(data []byte, charset string) (string, error) {
	const op = "retrieval.decode"
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}):
		enc = utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}):
		enc = utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		enc = xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		enc = xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM)
	case charset != "" && !isUTF8Name(charset):
		e, err := htmlindex.Get(charset)
		if err != nil {
			return "", assist.E(assist.KindInvalid, op, "unknown character encoding; convert the document to UTF-8", err)
		}
		enc = e
	}
	if enc != nil {
		out, err := enc.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(out) {
			return "", assist.E(assist.KindInvalid, op, "the document does not match its character encoding", err)
		}
		data = out
	}
	if looksBinary(data) {
		return "", assist.E(assist.KindInvalid, op, "the file looks binary, not text")
	}
	if !utf8.Valid(data) {
		return "", assist.E(assist.KindInvalid, op, "the document is not valid UTF-8 and declares no known encoding; convert it to UTF-8")
	}
	return string(data), nil
}

func isUTF8Name(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "utf-8" || s == "utf8"
}

// looksBinary reports NUL bytes or many control characters in the first
// 64 KiB: such input is an image, archive or office file, not text.
func looksBinary(data []byte) bool {
	head := data[:min(len(data), 64<<10)]
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, b := range head {
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' && b != '\f' {
			ctl++
		}
	}
	return ctl*100 > len(head) // more than 1% control bytes
}

// Normalize is the text form every offset refers to: valid UTF-8 in NFC,
// no byte-order mark, "\n" line ends, no control characters other than
// tab and newline, no trailing spaces on lines, at most one blank line in
// a row, and no leading or trailing blank lines.
func Normalize(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	lines := 0 // pending newlines
	started := false
	line := make([]rune, 0, 128)
	flush := func() {
		l := strings.TrimRightFunc(string(line), unicode.IsSpace)
		line = line[:0]
		if l == "" {
			if started {
				lines++
			}
			return
		}
		if started {
			if lines > 1 {
				b.WriteString("\n\n")
			} else {
				b.WriteString("\n")
			}
		}
		b.WriteString(l)
		started = true
		lines = 1
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			flush()
		case r == '\n' || r == '\v' || r == '\u2028':
			flush()
		case r == '\f' || r == '\u2029':
			flush()
			if started {
				lines = 2
			}
		case r == '\t':
			line = append(line, r)
		case unicode.IsControl(r) || r == '\uFEFF' || r == '\u00AD':
			// drop controls, stray byte-order marks and soft hyphens
		case unicode.IsSpace(r):
			line = append(line, ' ')
		default:
			line = append(line, r)
		}
	}
	flush()
	return b.String()
}
