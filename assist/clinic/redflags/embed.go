package redflags

import (
	"embed"
	"io/fs"
)

//go:embed rules/*.yaml
var embedded embed.FS

// Default loads the rule set embedded in the binary. Callers load it once
// at start-up and share it.
func Default() (*Set, error) { return Load(EmbeddedFS()) }

// EmbeddedFS returns the embedded rule files (for the CLI and reviews).
func EmbeddedFS() fs.FS {
	sub, err := fs.Sub(embedded, "rules")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
