package retrieval

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/soteai/gateway/assist"
)

var metaCharset = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)`)

// htmlDeclaredCharset returns the charset an HTML document declares in a
// meta tag within its first 1024 bytes, or "".
func htmlDeclaredCharset(data []byte) string {
	head := data[:min(len(data), 1024)]
	if m := metaCharset.FindSubmatch(head); m != nil {
		return string(m[1])
	}
	return ""
}

// htmlToText renders an HTML document as plain text in which headings are
// Markdown heading lines ("## Title"), so Markdown and HTML share heading
// detection and chunking. Scripts, styles, navigation and footers are
// dropped. It also returns the document's <title>.
func htmlToText(src string) (text, title string, err error) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return "", "", assist.E(assist.KindInvalid, "retrieval.htmlToText", "the HTML document cannot be parsed", err)
	}
	w := &textWriter{}
	w.walk(doc)
	return w.b.String(), w.title, nil
}

type textWriter struct {
	b       strings.Builder
	brk     int  // pending break: 0 none, 1 line, 2 paragraph
	space   bool // a space is pending inside a line
	pre     int  // depth of <pre>
	cell    bool // inside a table row after the first cell
	title   string
	started bool // some text was written
}

func (w *textWriter) breakLine(n int) {
	w.brk = max(w.brk, n)
	w.space = false
}

// write emits s after any pending break; breaks before the first text and
// at the end of the document are dropped.
func (w *textWriter) write(s string) {
	if w.brk > 0 && w.started {
		w.b.WriteString(strings.Repeat("\n", w.brk))
		w.space = false
	}
	w.brk = 0
	w.b.WriteString(s)
	w.started = true
}

func (w *textWriter) text(s string) {
	if s == "" {
		return
	}
	if w.pre > 0 {
		w.write(s)
		return
	}
	if isHTMLSpace(rune(s[0])) {
		w.space = true
	}
	for i, f := range strings.FieldsFunc(s, isHTMLSpace) {
		if w.brk == 0 && w.started && (i > 0 || w.space) {
			w.b.WriteByte(' ')
		}
		w.write(f)
	}
	w.space = isHTMLSpace(rune(s[len(s)-1]))
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00A0'
}

func (w *textWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
		switch n.DataAtom {
		case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe,
			atom.Object, atom.Canvas, atom.Nav, atom.Footer, atom.Aside, atom.Select, atom.Button:
			return
		case atom.Title:
			if w.title == "" {
				w.title = strings.Join(strings.Fields(nodeText(n)), " ")
			}
			return
		case atom.Head:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.DataAtom == atom.Title {
					w.walk(c)
				}
			}
			return
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			t := strings.Join(strings.Fields(nodeText(n)), " ")
			if t != "" {
				w.breakLine(2)
				level := int(n.Data[1] - '0')
				w.write(strings.Repeat("#", level) + " " + t)
				w.breakLine(2)
			}
			return
		case atom.Br:
			w.breakLine(1)
			return
		case atom.Hr:
			w.breakLine(2)
			return
		case atom.Li, atom.Dt:
			w.breakLine(1)
			w.write("- ")
			w.space = false
			w.walkChildren(n)
			w.breakLine(1)
			return
		case atom.Tr:
			w.breakLine(1)
			w.cell = false
			w.walkChildren(n)
			w.breakLine(1)
			return
		case atom.Td, atom.Th:
			if w.cell {
				w.write(" | ")
				w.space = false
			}
			w.cell = true
			w.walkChildren(n)
			return
		case atom.Pre:
			w.breakLine(2)
			w.pre++
			w.walkChildren(n)
			w.pre--
			w.breakLine(2)
			return
		}
		if isBlock(n.DataAtom) {
			w.breakLine(2)
			w.walkChildren(n)
			w.breakLine(2)
			return
		}
	}
	w.walkChildren(n)
}

func (w *textWriter) walkChildren(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Header, atom.Ul, atom.Ol, atom.Dl,
		atom.Dd, atom.Table, atom.Thead, atom.Tbody, atom.Tfoot, atom.Caption, atom.Blockquote,
		atom.Figure, atom.Figcaption, atom.Address, atom.Details, atom.Summary, atom.Form, atom.Fieldset:
		return true
	}
	return false
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
			return
		}
		if n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}
