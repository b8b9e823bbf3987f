package retrieval

import (
	"strings"
)

// markdownHeadings finds ATX ("## Title") and setext ("Title\n====")
// headings in a normalised Markdown text, skipping fenced code blocks.
// Offsets are byte offsets into text.
func markdownHeadings(text string) []Heading {
	var hs []Heading
	fence := "" // the open fence marker, "" when outside code
	prevStart, prevEnd := -1, -1
	prevPara := false // previous line is a one-line paragraph that could be a setext title
	inPara := false
	for start := 0; start < len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		line := text[start:end]
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		next := end + 1
		switch {
		case fence != "":
			if indent < 4 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
			prevPara = false
		case indent < 4 && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			c := trimmed[:1]
			n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
			fence = strings.Repeat(c, n)
			prevPara = false
		case indent < 4 && strings.HasPrefix(trimmed, "#"):
			if lvl, title, ok := atxHeading(trimmed); ok {
				hs = append(hs, Heading{Level: lvl, Title: title, Start: start, End: end})
				prevPara = false
				break
			}
			prevPara = !inPara
			if prevPara {
				prevStart, prevEnd = start, end
			}
		case indent < 4 && prevPara && setextUnderline(trimmed) > 0:
			title := cleanHeading(text[prevStart:prevEnd])
			if title != "" {
				hs = append(hs, Heading{Level: setextUnderline(trimmed), Title: title, Start: prevStart, End: end})
			}
			prevPara = false
		case strings.TrimSpace(line) == "":
			prevPara = false
		default:
			// A line can become a setext title only when it is the first
			// line of its paragraph and not a list item, quote or table.
			prevPara = !inPara && indent < 4 && !isBlockMarker(trimmed)
			if prevPara {
				prevStart, prevEnd = start, end
			}
		}
		inPara = strings.TrimSpace(line) != "" && fence == "" && !justHeading(hs, start)
		start = next
	}
	return hs
}

func atxHeading(s string) (level int, title string, ok bool) {
	for level < len(s) && s[level] == '#' {
		level++
	}
	if level < 1 || level > 6 {
		return 0, "", false
	}
	rest := s[level:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	rest = strings.TrimSpace(rest)
	// An optional closing sequence of #s preceded by a space.
	if t := strings.TrimRight(rest, "#"); t != rest && (t == "" || strings.HasSuffix(t, " ")) {
		rest = strings.TrimSpace(t)
	}
	return level, cleanHeading(rest), true
}

func justHeading(hs []Heading, lineStart int) bool {
	return len(hs) > 0 && hs[len(hs)-1].End >= lineStart
}

// setextUnderline returns 1 for "===" and 2 for "---" underlines, else 0.
func setextUnderline(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	switch {
	case strings.Trim(s, "=") == "":
		return 1
	case strings.Trim(s, "-") == "" && len(s) >= 2:
		return 2
	}
	return 0
}

func isBlockMarker(s string) bool {
	switch {
	case strings.HasPrefix(s, "- "), strings.HasPrefix(s, "* "), strings.HasPrefix(s, "+ "),
		strings.HasPrefix(s, ">"), strings.HasPrefix(s, "|"), strings.HasPrefix(s, "<"):
		return true
	}
	// "1. item" / "1) item"
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' '
}

// cleanHeading removes simple inline markup from a heading's text.
func cleanHeading(s string) string {
	s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
