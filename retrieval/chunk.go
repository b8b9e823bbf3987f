package retrieval

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ChunkOptions sizes chunks. Sizes are in characters (code points).
type ChunkOptions struct {
	// MaxChars is the largest chunk; 0 means 1000.
	MaxChars int
	// OverlapChars is how much of a chunk's end the next chunk repeats
	// when a long paragraph must be cut; 0 means 150, negative means none.
	OverlapChars int
}

func (o ChunkOptions) withDefaults() ChunkOptions {
	if o.MaxChars <= 0 {
		o.MaxChars = 1000
	}
	if o.MaxChars < 50 {
		o.MaxChars = 50
	}
	switch {
	case o.OverlapChars == 0:
		o.OverlapChars = 150
	case o.OverlapChars < 0:
		o.OverlapChars = 0
	}
	o.OverlapChars = min(o.OverlapChars, o.MaxChars/2)
	return o
}

// Signature identifies the chunking rules and sizes: a document chunked
// under a different signature is chunked again on re-ingest.
func (o ChunkOptions) Signature() string {
	o = o.withDefaults()
	return fmt.Sprintf("v1/max=%d/overlap=%d", o.MaxChars, o.OverlapChars)
}

// Chunk is one passage of a document.
type Chunk struct {
	Ord         int      // position in the document, from 0
	HeadingPath []string // enclosing headings, outermost first
	Start, End  int      // code-point offsets into Parsed.Text, half-open
	Text        string   // Parsed.Text[Start:End] (in code points)
	Hash        string   // hex SHA-256 of the embedding input (EmbedText)
}

// EmbedText is what is embedded for a chunk: its heading path (or the
// document title when it has none) and its text, so a passage keeps the
// meaning its headings give it.
func EmbedText(title string, path []string, text string) string {
	ctx := strings.Join(path, " > ")
	if ctx == "" {
		ctx = title
	}
	if ctx == "" {
		return text
	}
	return ctx + "\n\n" + text
}

func hashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ContentHash is the hex SHA-256 of a normalised document text.
func ContentHash(text string) string { return hashText(text) }

// segment is a sentence-sized span of a section's body (byte offsets).
type segment struct {
	a, b      int
	paraStart bool // a blank line precedes it
	lineStart bool // a line break precedes it
}

// ChunkDocument cuts a parsed document into chunks that never cross a
// heading. Within a section it packs whole sentences up to MaxChars,
// preferring to end at a paragraph break; when it must cut inside a
// paragraph, the next chunk repeats up to OverlapChars of trailing
// sentences. Sentences longer than MaxChars are cut at spaces.
func ChunkDocument(p *Parsed, opt ChunkOptions) []Chunk {
	opt = opt.withDefaults()
	text := p.Text
	type section struct {
		a, b int
		path []string
	}
	var sections []section
	var stack []Heading
	pos := 0
	for _, h := range p.Headings {
		sections = append(sections, section{pos, h.Start, headingPath(stack)})
		for len(stack) > 0 && stack[len(stack)-1].Level >= h.Level {
			stack = stack[:len(stack)-1]
		}
		stack = append(stack, h)
		pos = h.End
	}
	sections = append(sections, section{pos, len(text), headingPath(stack)})

	c := &chunker{text: text, opt: opt, title: p.Title}
	for _, s := range sections {
		c.section(s.a, s.b, s.path)
	}
	return c.out
}

func headingPath(stack []Heading) []string {
	path := make([]string, len(stack))
	for i, h := range stack {
		path[i] = h.Title
	}
	return path
}

type chunker struct {
	text  string
	title string
	opt   ChunkOptions
	out   []Chunk
	// rune cursor: chunk starts never decrease, so offsets are counted
	// incrementally from the previous chunk's start.
	curByte, curRune int
}

func (c *chunker) runes(a, b int) int { return utf8.RuneCountInString(c.text[a:b]) }

func (c *chunker) runeAt(b int) int {
	c.curRune += utf8.RuneCountInString(c.text[c.curByte:b])
	c.curByte = b
	return c.curRune
}

func (c *chunker) section(a, b int, path []string) {
	segs := c.segments(a, b)
	max, overlap := c.opt.MaxChars, c.opt.OverlapChars
	for i := 0; i < len(segs); {
		j := i
		for j+1 < len(segs) && c.runes(segs[i].a, segs[j+1].b) <= max {
			j++
		}
		if j+1 < len(segs) {
			// Cutting: prefer a paragraph break, then a line break, if the
			// chunk stays at least half full.
			if k := c.preferredCut(segs, i, j, func(s segment) bool { return s.paraStart }); k >= 0 {
				j = k
			} else if k := c.preferredCut(segs, i, j, func(s segment) bool { return s.lineStart }); k >= 0 {
				j = k
			}
		}
		c.emit(segs[i].a, segs[j].b, path)
		if j+1 >= len(segs) {
			break
		}
		next := j + 1
		if !segs[j+1].paraStart && overlap > 0 {
			for k := j; k > i; k-- {
				if c.runes(segs[k].a, segs[j].b) > overlap {
					break
				}
				next = k
				if segs[k].paraStart {
					break
				}
			}
			// The next chunk must have room for at least one new segment.
			for next <= j && c.runes(segs[next].a, segs[j+1].b) > max {
				next++
			}
		}
		i = next
	}
}

func (c *chunker) preferredCut(segs []segment, i, j int, boundary func(segment) bool) int {
	for k := j; k > i; k-- {
		if c.runes(segs[i].a, segs[k-1].b) < c.opt.MaxChars/2 {
			return -1
		}
		if boundary(segs[k]) {
			return k - 1
		}
	}
	return -1
}

func (c *chunker) emit(a, b int, path []string) {
	start := c.runeAt(a)
	end := start + c.runes(a, b)
	body := c.text[a:b]
	c.out = append(c.out, Chunk{
		Ord:         len(c.out),
		HeadingPath: path,
		Start:       start,
		End:         end,
		Text:        body,
		Hash:        hashText(EmbedText(c.title, path, body)),
	})
}

// segments splits text[a:b] into trimmed sentence spans, each at most
// MaxChars long.
func (c *chunker) segments(a, b int) []segment {
	var segs []segment
	text := c.text
	para, line := false, false
	add := func(x, y int) {
		for x < y && isSpaceByte(text[x]) {
			x++
		}
		for y > x && isSpaceByte(text[y-1]) {
			y--
		}
		if x >= y {
			return
		}
		first := true
		for _, s := range c.split(x, y) {
			seg := segment{a: s[0], b: s[1]}
			if first {
				seg.paraStart, seg.lineStart = para, line || para
			}
			first = false
			segs = append(segs, seg)
		}
		para, line = false, false
	}
	start := a
	for i := a; i < b; i++ {
		switch ch := text[i]; {
		case ch == '\n':
			add(start, i)
			if i+1 < b && text[i+1] == '\n' {
				para = true
				i++
			}
			line = true
			start = i + 1
		case (ch == '.' || ch == '!' || ch == '?') && i+1 < b && text[i+1] == ' ':
			add(start, i+1)
			start = i + 1
		}
	}
	add(start, b)
	return segs
}

// split cuts a span longer than MaxChars at spaces (or, for a run without
// spaces, at character boundaries) into pieces of at most MaxChars.
func (c *chunker) split(a, b int) [][2]int {
	max := c.opt.MaxChars
	if c.runes(a, b) <= max {
		return [][2]int{{a, b}}
	}
	var out [][2]int
	for a < b {
		// Find the byte position after max runes.
		end, n := a, 0
		for end < b && n < max {
			_, size := utf8.DecodeRuneInString(c.text[end:])
			end += size
			n++
		}
		if end < b {
			if sp := strings.LastIndexByte(c.text[a:end], ' '); sp > 0 {
				end = a + sp
			}
		}
		out = append(out, [2]int{a, end})
		a = end
		for a < b && c.text[a] == ' ' {
			a++
		}
	}
	return out
}

func isSpaceByte(b byte) bool { return b == ' ' || b == '\n' || b == '\t' }
