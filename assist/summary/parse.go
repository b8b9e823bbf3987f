package summary

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
)

// rawSentence is a sentence as the model wrote it.
type rawSentence struct {
	Text  string
	Cites []string
}

// rawSection is one section's sentences under the key the model used.
type rawSection struct {
	Key       string
	Sentences []rawSentence
}

// parseAnswer reads a model answer into sections, tolerating what models
// do: prose or code fences around the JSON, a {"sections": …} wrapper
// (object or list), sentences as objects or plain strings, citations as
// lists, numbers or comma-separated strings under several names. It
// returns ok=false when no JSON object can be found at all.
func parseAnswer(text string) ([]rawSection, bool) {
	obj, ok := firstObject(text)
	if !ok {
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, false
	}
	return sectionsOf(obj), true
}

// firstObject finds the first complete JSON object in text.
func firstObject(text string) ([]byte, bool) {
	for i := 0; i < len(text); i++ {
		if text[i] != '{' {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text[i:]))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == nil && len(raw) > 0 && raw[0] == '{' {
			return raw, true
		}
	}
	return nil, false
}

// sectionsOf reads an object's members in order as sections.
func sectionsOf(obj []byte) []rawSection {
	members := orderedMembers(obj)
	if len(members) == 1 && strings.EqualFold(members[0].key, "sections") {
		v := bytes.TrimSpace(members[0].value)
		if len(v) > 0 && v[0] == '{' {
			return sectionsOf(v)
		}
		var list []map[string]json.RawMessage
		if json.Unmarshal(v, &list) == nil {
			var out []rawSection
			for _, it := range list {
				key := firstString(it, "key", "section", "title", "name", "heading")
				val := firstRaw(it, "sentences", "content", "text", "items")
				out = append(out, rawSection{Key: key, Sentences: sentencesOf(val)})
			}
			return out
		}
	}
	out := make([]rawSection, 0, len(members))
	for _, mb := range members {
		out = append(out, rawSection{Key: mb.key, Sentences: sentencesOf(mb.value)})
	}
	return out
}

type member struct {
	key   string
	value json.RawMessage
}

// orderedMembers returns the complete members of the object that starts
// obj, in order; for a truncated object (a stream in progress) the
// members completed so far.
func orderedMembers(obj []byte) []member {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		k, ok := t.(string)
		if !ok {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out = append(out, member{key: k, value: v})
	}
	return out
}

func firstRaw(m map[string]json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		for mk, v := range m {
			if strings.EqualFold(mk, k) {
				return v
			}
		}
	}
	return nil
}

func firstString(m map[string]json.RawMessage, keys ...string) string {
	var s string
	if json.Unmarshal(firstRaw(m, keys...), &s) == nil {
		return s
	}
	return ""
}

// sentencesOf reads a section's value: a list of sentence objects or
// strings, a single string, or a single sentence object.
func sentencesOf(v json.RawMessage) []rawSentence {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return splitPlain(s)
		}
	case '{':
		if s, ok := sentenceObject(v); ok {
			return []rawSentence{s}
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(v, &items) != nil {
			return nil
		}
		var out []rawSentence
		for _, it := range items {
			it = bytes.TrimSpace(it)
			if len(it) == 0 {
				continue
			}
			switch it[0] {
			case '"':
				var s string
				if json.Unmarshal(it, &s) == nil && strings.TrimSpace(s) != "" {
					out = append(out, splitCitesInline(s))
				}
			case '{':
				if s, ok := sentenceObject(it); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	return nil
}

func sentenceObject(v json.RawMessage) (rawSentence, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return rawSentence{}, false
	}
	text := firstString(m, "text", "sentence", "content", "statement", "value")
	if strings.TrimSpace(text) == "" {
		return rawSentence{}, false
	}
	s := splitCitesInline(text)
	s.Cites = append(s.Cites, citesOf(firstRaw(m, "cites", "citations", "cite", "turns", "turn_ids", "sources", "refs", "evidence"))...)
	return s, true
}

// citesOf reads citations: ["t1", 2], "t1, t2" or 3.
func citesOf(v json.RawMessage) []string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil
	}
	var list []json.RawMessage
	if v[0] == '[' {
		if json.Unmarshal(v, &list) != nil {
			return nil
		}
	} else {
		list = []json.RawMessage{v}
	}
	var out []string
	for _, it := range list {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(it, &s) == nil:
			for p := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
				out = append(out, strings.Trim(p, "[]()"))
			}
		case json.Unmarshal(it, &n) == nil:
			out = append(out, n.String())
		}
	}
	return out
}

// splitCitesInline moves trailing "[t3, t4]" citations out of a text.
func splitCitesInline(text string) rawSentence {
	text = strings.TrimSpace(text)
	var cites []string
	for strings.HasSuffix(text, "]") {
		i := strings.LastIndex(text, "[")
		if i < 0 {
			break
		}
		inner := text[i+1 : len(text)-1]
		if strings.HasPrefix(inner, "NAME-") || strings.HasPrefix(inner, "HETU-") || strings.ContainsAny(inner, " ") && !strings.Contains(inner, ",") {
			break
		}
		for p := range strings.SplitSeq(inner, ",") {
			if p = strings.TrimSpace(p); p != "" {
				cites = append(cites, p)
			}
		}
		text = strings.TrimSpace(text[:i])
	}
	return rawSentence{Text: text, Cites: cites}
}

// splitPlain splits a plain string into sentences.
func splitPlain(s string) []rawSentence {
	var out []rawSentence
	for _, part := range splitSentences(s) {
		out = append(out, splitCitesInline(part))
	}
	return out
}

// splitSentences cuts text after . ! ? followed by a space and an upper-case
// letter or a digit; abbreviations with a lower-case continuation stay.
func splitSentences(s string) []string {
	rs := []rune(strings.TrimSpace(s))
	var out []string
	start := 0
	for i := 0; i < len(rs); i++ {
		if rs[i] != '.' && rs[i] != '!' && rs[i] != '?' {
			continue
		}
		j := i + 1
		for j < len(rs) && rs[j] == ']' {
			j++
		}
		if j+1 < len(rs) && unicode.IsSpace(rs[j]) && (unicode.IsUpper(rs[j+1]) || unicode.IsDigit(rs[j+1])) {
			out = append(out, strings.TrimSpace(string(rs[start:j])))
			start = j + 1
		}
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}

// streamParser finds sections completed so far in a growing answer.
type streamParser struct {
	buf  strings.Builder
	done int // members already reported
}

// add appends a piece of the answer and returns the sections completed by
// it (never a section twice).
func (p *streamParser) add(piece string) []rawSection {
	p.buf.WriteString(piece)
	s := p.buf.String()
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return nil
	}
	members := orderedMembers([]byte(s[i:]))
	if len(members) <= p.done {
		return nil
	}
	// A lone "sections" wrapper completes only at the end.
	if len(members) == 1 && strings.EqualFold(members[0].key, "sections") {
		return nil
	}
	var out []rawSection
	for _, mb := range members[p.done:] {
		out = append(out, rawSection{Key: mb.key, Sentences: sentencesOf(mb.value)})
	}
	p.done = len(members)
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
