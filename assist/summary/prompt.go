package summary

import (
	"embed"

	"github.com/soteai/gateway/assist/prompt"
)

//go:embed prompts/*.tmpl
var promptFiles embed.FS

// prompts are the task's prompt templates (assist/prompt): summary.system
// and summary.note, whose id and version go into every model call's
// audit record.
var prompts = prompt.MustLoad(promptFiles, "prompts", "summary.")

var (
	systemPrompt = mustLatest("summary.system")
	notePrompt   = mustLatest("summary.note")
)

// PromptVersion names the prompt templates in use, as recorded with every
// model call (attribute "prompt").
var PromptVersion = systemPrompt.ID + "@" + systemPrompt.Version + "," + notePrompt.ID + "@" + notePrompt.Version

func mustLatest(id string) *prompt.Template {
	t, err := prompts.Latest(id)
	if err != nil {
		panic(err) // the embedded files are checked by every test run
	}
	return t
}

var langNames = map[string]string{"fi": "Finnish", "sv": "Swedish", "en": "English"}

type promptSection struct {
	Key, Title, Guidance string
}

type promptPartial struct {
	Section, Text, Cites string
}

// promptData is what the prompt templates see.
type promptData struct {
	LangName    string
	Title       string
	Sections    []promptSection
	Sources     []Turn
	Part, Parts int
	Partials    []promptPartial
}

func newPromptData(t *Template, lang string) promptData {
	d := promptData{LangName: langNames[lang], Title: t.Title.In(lang)}
	for _, s := range t.Sections {
		d.Sections = append(d.Sections, promptSection{Key: s.Key, Title: s.Title.In(lang), Guidance: s.Guidance})
	}
	return d
}

// render returns the system prompt and the prompt for d.
func render(d promptData) (system, prompt string) {
	system, err := systemPrompt.Render(d)
	if err != nil {
		panic(err) // the templates are checked by the golden tests
	}
	prompt, err = notePrompt.Render(d)
	if err != nil {
		panic(err)
	}
	return system, prompt
}
