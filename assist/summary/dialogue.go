package summary

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	bracketSpeaker = regexp.MustCompile(`^\[([^\]]+)\]\s*(.*)$`)
	colonSpeaker   = regexp.MustCompile(`^([A-Za-z_][A-Za-z_ ]{0,30}):\s*(.*)$`)
)

// TurnsFromDialogue reads a dialogue with one turn per line, as the
// public data sets write it — "[doctor] text" (ACI-Bench) or "Doctor: text"
// (MTS-Dialog) — into turns t1, t2, …. A line without a speaker label
// continues the previous turn.
func TurnsFromDialogue(dialogue string) []Turn {
	var out []Turn
	for line := range strings.SplitSeq(dialogue, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := bracketSpeaker.FindStringSubmatch(line)
		if m == nil {
			m = colonSpeaker.FindStringSubmatch(line)
		}
		if m == nil {
			if len(out) > 0 {
				out[len(out)-1].Text += " " + line
				continue
			}
			m = []string{line, "speaker", line}
		}
		if strings.TrimSpace(m[2]) == "" {
			continue
		}
		out = append(out, Turn{ID: fmt.Sprintf("t%d", len(out)+1), Speaker: strings.ToLower(strings.TrimSpace(m[1])), Text: strings.TrimSpace(m[2])})
	}
	return out
}
