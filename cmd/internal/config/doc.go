// Package config loads the gateway's one configuration file (YAML) with
// environment overrides (ASSIST_*), and validates it with messages that name
// the bad key. cmd/assistd and cmd/assist build a Config and pass it in;
// nothing else reads files or the environment for settings.
//
// It imports the YAML and env libraries; of the project, the vocabulary and
// the option types of the packages it configures (audit, models, record).
// The import rules are checked by deps_test.go at the repository root.
package config
