package retrieval

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"time"

	"github.com/soteai/gateway/assist"
)

// PDFExtractor returns the text layer of a PDF document.
type PDFExtractor interface {
	// ExtractText returns the document's text with pages separated by
	// form feeds. It returns invalid for damaged or encrypted files and
	// unavailable when the extractor itself cannot run.
	ExtractText(ctx context.Context, pdf []byte) (string, error)
}

// PDFToText extracts text with poppler's pdftotext command (Debian package
// poppler-utils). It is preferred over pure-Go PDF readers because it
// handles the font encodings (CID fonts, ToUnicode maps, ligatures) and
// word spacing that guideline PDFs use, and because it runs as a separate
// process with a deadline: a hostile or broken file can at worst make that
// process fail, never the gateway.
type PDFToText struct {
	Path      string        // executable; "" means "pdftotext" on PATH
	Timeout   time.Duration // per document; 0 means 60 s
	MaxOutput int           // bytes of text accepted; 0 means 64 MiB
}

var _ PDFExtractor = PDFToText{}

// ExtractText implements PDFExtractor. The PDF is passed on standard input
// and the text read from standard output, so no temporary files are made.
func (p PDFToText) ExtractText(ctx context.Context, pdf []byte) (string, error) {
	const op = "retrieval.PDFToText"
	path := p.Path
	if path == "" {
		path = "pdftotext"
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	maxOut := p.MaxOutput
	if maxOut <= 0 {
		maxOut = 64 << 20
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// "fd://0" makes poppler read the document from standard input.
	cmd := exec.CommandContext(ctx, path, "-q", "-enc", "UTF-8", "-eol", "unix", "fd://0", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out := &limitedBuffer{max: maxOut}
	cmd.Stdout = out
	err := cmd.Run()
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return "", assist.E(assist.KindUnavailable, op, "PDF text extraction (pdftotext from poppler-utils) is not installed", err)
	case ctx.Err() == context.DeadlineExceeded:
		return "", assist.E(assist.KindTimeout, op, "reading the PDF took too long", err)
	case out.over:
		return "", assist.E(assist.KindTooLarge, op, "the PDF has too much text to index; split it into smaller documents")
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", assist.E(assist.KindInvalid, op, "the PDF cannot be read (damaged or encrypted)", err)
		}
		return "", assist.E(assist.KindUnavailable, op, "PDF text extraction failed to run", err)
	}
	return out.buf.String(), nil
}

// limitedBuffer keeps at most max bytes and remembers whether more came.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.over = true
		b.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.buf.Write(p)
}
