package evals

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
)

// Case is one labelled example.
type Case struct {
	ID       string          `json:"id"`
	Task     string          `json:"task"`
	Input    json.RawMessage `json:"input"`
	Expected json.RawMessage `json:"expected"`
	Tags     []string        `json:"tags,omitempty"`
	Notes    string          `json:"notes,omitempty"`

	// Line is the 1-based line number the case was read from.
	Line int `json:"-"`
}

// HasTag reports whether the case carries tag.
func (c Case) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// DecodeInput decodes the case input into v, rejecting unknown fields.
func (c Case) DecodeInput(v any) error { return strictDecode(c.Input, v, c, "input") }

// DecodeExpected decodes the expected output into v, rejecting unknown fields.
func (c Case) DecodeExpected(v any) error { return strictDecode(c.Expected, v, c, "expected") }

func strictDecode(raw json.RawMessage, v any, c Case, field string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("line %d: case %q: %s: %w", c.Line, c.ID, field, err)
	}
	return nil
}

var (
	idRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	taskRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	tagRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_:.-]{0,63}$`)
)

// maxLine bounds one JSONL line (1 MiB).
const maxLine = 1 << 20

// Load reads a JSONL dataset. It validates every case (id, task, input
// and expected objects, tags, unique ids, no unknown top-level fields)
// and returns all problems joined, each prefixed with its line number.
func Load(r io.Reader) ([]Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var (
		cases []Case
		probs []error
		seen  = map[string]int{}
		line  int
	)
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var c Case
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			probs = append(probs, fmt.Errorf("line %d: not a valid case object: %w", line, err))
			continue
		}
		if dec.More() {
			probs = append(probs, fmt.Errorf("line %d: more than one JSON value on the line", line))
			continue
		}
		c.Line = line
		if err := validate(c); err != nil {
			probs = append(probs, fmt.Errorf("line %d: %w", line, err))
			continue
		}
		if prev, dup := seen[c.ID]; dup {
			probs = append(probs, fmt.Errorf("line %d: duplicate id %q (first on line %d)", line, c.ID, prev))
			continue
		}
		seen[c.ID] = line
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		probs = append(probs, fmt.Errorf("line %d: %w", line+1, err))
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("evals.Load: %w", errors.Join(probs...))
	}
	if len(cases) == 0 {
		return nil, errors.New("evals.Load: the dataset has no cases")
	}
	return cases, nil
}

// LoadFile reads a dataset from a file system (os.DirFS, embed.FS, ...).
func LoadFile(fsys fs.FS, name string) ([]Case, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("evals.LoadFile: %w", err)
	}
	defer f.Close()
	cases, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cases, nil
}

func validate(c Case) error {
	switch {
	case !idRe.MatchString(c.ID):
		return fmt.Errorf("id %q must be 1–128 letters, digits, '_', '.', ':' or '-'", c.ID)
	case !taskRe.MatchString(c.Task):
		return fmt.Errorf("case %q: task %q must be lower_snake_case", c.ID, c.Task)
	case !isObject(c.Input):
		return fmt.Errorf("case %q: input must be a JSON object", c.ID)
	case !isObject(c.Expected):
		return fmt.Errorf("case %q: expected must be a JSON object", c.ID)
	case len(c.Notes) > 4000:
		return fmt.Errorf("case %q: notes longer than 4000 characters", c.ID)
	}
	for _, t := range c.Tags {
		if !tagRe.MatchString(t) {
			return fmt.Errorf("case %q: tag %q must be lower case letters, digits, '_', ':', '.' or '-'", c.ID, t)
		}
	}
	return nil
}

func isObject(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return strings.HasPrefix(s, "{") && json.Valid(raw)
}

// FilterTask returns the cases of one task.
func FilterTask(cases []Case, task string) []Case {
	var out []Case
	for _, c := range cases {
		if c.Task == task {
			out = append(out, c)
		}
	}
	return out
}
