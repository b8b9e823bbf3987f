package risk

import (
	"embed"
	"io/fs"
)

//go:embed kb/manifest.yaml kb/drugs.yaml kb/classes.yaml kb/rules/*.yaml
var embeddedKB embed.FS

// DefaultKB loads the knowledge base embedded in the binary. Callers load
// it once at start-up and share the *KB.
func DefaultKB() (*KB, error) {
	sub, err := fs.Sub(embeddedKB, "kb")
	if err != nil {
		return nil, err
	}
	return LoadKB(sub)
}

// EmbeddedKBFS returns the embedded knowledge-base files (for the CLI's
// validate and export commands).
func EmbeddedKBFS() fs.FS {
	sub, err := fs.Sub(embeddedKB, "kb")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}
