// Package buildinfo tells which build of the gateway is running: version,
// commit and build date, set by `make dist` with -ldflags -X, else read
// from the Go toolchain's VCS stamp, else "dev".
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set at build time: go build -ldflags "-X github.com/soteai/gateway/cmd/internal/buildinfo.Version=1.2.0 ...".
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// Info is the running build.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"go"`
}

// Get returns the running build's info.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Commit == "" {
					i.Commit = s.Value
				}
			case "vcs.time":
				if i.Date == "" {
					i.Date = s.Value
				}
			}
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}

// String renders the info on one line.
func (i Info) String() string {
	s := i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c
		if i.Date != "" {
			s += ", " + i.Date
		}
		s += ")"
	}
	return s + " " + i.GoVersion
}
