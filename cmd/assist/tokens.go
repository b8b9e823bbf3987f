package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/auth"
)

func newTokensCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Manage bearer tokens and Ollama keys"}
	var role, org string
	var asJSON bool

	create := &cobra.Command{
		Use:   "create NAME --role ROLE",
		Short: "Create a bearer token; it is printed once and stored only as a hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := assist.ParseRole(role)
			if err != nil {
				return err
			}
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			store := auth.NewStore(db)
			var tok string
			c, err := e.issue(cmd.Context(), db, store, warnTo(cmd), func() (c auth.Credential, err error) {
				tok, c, err = store.CreateToken(cmd.Context(), args[0], r, org)
				return c, err
			})
			if err != nil {
				return err // never hand out a credential that is not on record
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(map[string]any{"token": tok, "credential": c})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "created %s (%s, role %s); the token above is shown only once\n", c.ID, c.Name, c.Role)
			return nil
		},
	}
	addKey := &cobra.Command{
		Use:   "add-ollama-key NAME --role ROLE [PUBKEY_FILE]",
		Short: "Register an Ollama public key (~/.ollama/id_ed25519.pub) so the ollama CLI can sign requests (OLLAMA_AUTH=1)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := assist.ParseRole(role)
			if err != nil {
				return err
			}
			path := os.ExpandEnv("$HOME/.ollama/id_ed25519.pub")
			if len(args) == 2 {
				path = args[1]
			}
			key, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			store := auth.NewStore(db)
			c, err := e.issue(cmd.Context(), db, store, warnTo(cmd), func() (auth.Credential, error) {
				return store.AddOllamaKey(cmd.Context(), args[0], r, org, string(key))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %s (%s, role %s, %s)\n", c.ID, c.Name, c.Role, c.Fingerprint)
			return nil
		},
	}
	for _, c := range []*cobra.Command{create, addKey} {
		c.Flags().StringVar(&role, "role", "", "clinician, interpreter, risk_reviewer, admin or service")
		c.Flags().StringVar(&org, "organisation", "", "organisation recorded with the actor")
		_ = c.MarkFlagRequired("role")
	}
	create.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens and keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			creds, err := auth.NewStore(db).List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(creds)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tNAME\tROLE\tCREATED\tREVOKED")
			for _, c := range creds {
				rev := "-"
				if c.RevokedAt != nil {
					rev = c.RevokedAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Kind, c.Name, c.Role, c.CreatedAt.Format("2006-01-02 15:04"), rev)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token or key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			rec, err := e.credentialRecorder(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer func() { _ = rec.close() }()
			if err := auth.NewStore(db).Revoke(cmd.Context(), args[0]); err != nil {
				return err
			}
			ev := audit.Event{Kind: audit.KindTokenRevoke, Outcome: audit.OutcomeOK, Attrs: map[string]string{"credential": args[0]}}
			seq, err := rec.record(cmd.Context(), ev)
			if err != nil {
				return fmt.Errorf("revoked %s, but the revocation could not be recorded in the audit log: %w", args[0], err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "recorded in the audit log as seq %d\n", seq)
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, addKey, list, revoke)
	return cmd
}

// credentialEvent describes an issued credential for the audit log.
func credentialEvent(kind audit.EventKind, c auth.Credential) audit.Event {
	return audit.Event{Kind: kind, Outcome: audit.OutcomeOK, Attrs: map[string]string{
		"credential": c.ID, "credential_kind": c.Kind, "role": string(c.Role), "name": c.Name}}
}

// warnTo prints notes on the command's error stream.
func warnTo(cmd *cobra.Command) func(string) {
	return func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
}
