package main

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/cmd/internal/schema"
)

// newAuditCmd is `assist audit`: export, verify, checkpoint, grant, keygen.
// Keys come from flags, then ASSIST_AUDIT_* variables, then --config.
func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Export, verify and sign the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditExportCmd(e), newAuditVerifyCmd(e), newAuditCheckpointCmd(e),
		newAuditGrantCmd(e), newAuditKeygenCmd())
	return cmd
}

// getenv looks a variable up in the command's environment.
func (e *env) getenv(key string) string {
	for _, kv := range e.environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// auditPublicKey resolves the trusted checkpoint key: the flag (a PEM file
// or base64/hex text), ASSIST_AUDIT_CHECKPOINT_PUBLIC_KEY, or the public
// half of the signing key (see auditSigningKey). nil when none is given.
func (e *env) auditPublicKey(flag string) (ed25519.PublicKey, error) {
	if flag == "" {
		flag = e.getenv("ASSIST_AUDIT_CHECKPOINT_PUBLIC_KEY")
	}
	if flag != "" {
		data := []byte(flag)
		if b, err := os.ReadFile(flag); err == nil {
			data = b
		}
		return audit.ParsePublicKey(data)
	}
	if e.configPath == "" && e.getenv("ASSIST_AUDIT_CHECKPOINT_KEY_FILE") == "" && e.getenv("ASSIST_AUDIT_CHECKPOINT_KEY") == "" {
		return nil, nil
	}
	k, err := e.auditSigningKey("")
	if err != nil {
		return nil, err
	}
	return k.Public().(ed25519.PublicKey), nil
}

// auditSigningKey resolves the checkpoint signing key as the gateway does
// ([config.Config.AuditOptions]): the flag (a file), else
// ASSIST_AUDIT_CHECKPOINT_KEY_FILE / ASSIST_AUDIT_CHECKPOINT_KEY (which
// need no --config), else the configuration's audit.checkpoint_key(_file).
func (e *env) auditSigningKey(file string) (ed25519.PrivateKey, error) {
	a := config.Audit{CheckpointKeyFile: cmp.Or(file, e.getenv("ASSIST_AUDIT_CHECKPOINT_KEY_FILE")),
		CheckpointKey: e.getenv("ASSIST_AUDIT_CHECKPOINT_KEY")}
	if a.CheckpointKeyFile == "" && a.CheckpointKey == "" {
		if e.configPath == "" {
			return nil, assist.Errorf(assist.KindInvalid, "no checkpoint signing key: give --checkpoint-key-file, ASSIST_AUDIT_CHECKPOINT_KEY_FILE or --config")
		}
		cfg, err := e.config()
		if err != nil {
			return nil, err
		}
		a = config.Audit{CheckpointKeyFile: cfg.Audit.CheckpointKeyFile, CheckpointKey: cfg.Audit.CheckpointKey}
	}
	opts, err := (&config.Config{Audit: a}).AuditOptions(nil)
	if err != nil {
		return nil, err
	}
	return opts.CheckpointKey, nil
}

func newAuditExportCmd(e *env) *cobra.Command {
	var out, pubFlag string
	cmd := &cobra.Command{
		Use:   "export --out DIR",
		Short: "Write every audit record and checkpoint to DIR (JSON lines), from one database snapshot",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := e.auditPublicKey(pubFlag)
			if err != nil {
				return err
			}
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			m, err := audit.Export(cmd.Context(), db, out, pub)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d records (seq %d..%d) and %d checkpoints to %s\n",
				m.Records, m.FirstSeq, m.LastSeq, m.Checkpoints, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write (created; must not hold an export)")
	cmd.Flags().StringVar(&pubFlag, "checkpoint-public-key", "", "checkpoint public key to include (PEM file or base64); default: from the configuration")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newAuditVerifyCmd(e *env) *cobra.Command {
	var dir, pubFlag, trusted string
	var live, asJSON bool
	cmd := &cobra.Command{
		Use:   "verify (--dir DIR | --db)",
		Short: "Check an export or the live database; report every modified, missing, reordered or truncated record and forged checkpoint",
		Long: `Verify recomputes every record's leaf hash, checks the sequence and the
hash chain, and checks every checkpoint's Ed25519 signature and Merkle root.
The public key should come from a trusted place (--checkpoint-public-key or
ASSIST_AUDIT_CHECKPOINT_PUBLIC_KEY), not from the data being verified.
--trusted-checkpoints adds checkpoints kept elsewhere (an earlier export's
checkpoints.jsonl), which catches a truncated log whose checkpoints were
deleted too. The exit status is non-zero when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (dir == "") == !live {
				return assist.Errorf(assist.KindInvalid, "give exactly one of --dir DIR or --db")
			}
			pub, err := e.auditPublicKey(pubFlag)
			if err != nil {
				return err
			}
			opts := audit.VerifyOptions{PublicKey: pub}
			if trusted != "" {
				if opts.Extra, err = readCheckpoints(trusted); err != nil {
					return err
				}
			}
			var rep *audit.Report
			where := "database"
			if opts.PublicKey == nil {
				// Never the key in the data being verified: whoever could
				// rewrite the records could rewrite that key too.
				return assist.Errorf(assist.KindInvalid, "a trusted checkpoint public key is required: give --checkpoint-public-key, "+
					"ASSIST_AUDIT_CHECKPOINT_PUBLIC_KEY or --config (a key stored with the data being verified proves nothing)")
			}
			if live {
				db, err := e.open(cmd.Context())
				if err != nil {
					return err
				}
				defer db.Close()
				if rep, err = audit.VerifyDB(cmd.Context(), db, opts); err != nil {
					return err
				}
			} else {
				where = dir
				src, err := audit.OpenExport(dir)
				if err != nil {
					return err
				}
				if rep, err = audit.Verify(cmd.Context(), src, opts); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(cmd.OutOrStdout(), where, rep)
			}
			if !rep.OK() {
				return fmt.Errorf("audit verification failed: %d finding(s)", len(rep.Findings)+rep.Omitted)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "export directory to verify offline")
	cmd.Flags().BoolVar(&live, "db", false, "verify the live database (one consistent snapshot)")
	cmd.Flags().StringVar(&pubFlag, "checkpoint-public-key", "", "trusted checkpoint public key (PEM file or base64)")
	cmd.Flags().StringVar(&trusted, "trusted-checkpoints", "", "checkpoints.jsonl kept elsewhere, checked as well")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func readCheckpoints(path string) ([]audit.Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []audit.Checkpoint
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var c audit.Checkpoint
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func printReport(w io.Writer, where string, rep *audit.Report) {
	fmt.Fprintf(w, "verified %s: %d records (seq %d..%d), %d checkpoints, trusted key %s, in %s (%.0f records/s)\n",
		where, rep.Records, rep.FirstSeq, rep.LastSeq, rep.Checkpoints, rep.KeyID, rep.Elapsed.Round(time.Millisecond),
		float64(rep.Records)/max(rep.Elapsed.Seconds(), 1e-9))
	switch {
	case rep.VerifiedSize > 0:
		fmt.Fprintf(w, "seq 1..%d intact (checked against the signed checkpoint of size %d)\n", rep.VerifiedSize, rep.MatchedCheckpoint)
	case rep.MatchedCheckpoint > 0:
		fmt.Fprintf(w, "the stored leaf hashes match the signed checkpoint of size %d, but see the findings\n", rep.MatchedCheckpoint)
	default:
		fmt.Fprintln(w, "no signed checkpoint could be matched")
	}
	if rep.LastSeq > rep.MatchedCheckpoint {
		fmt.Fprintf(w, "note: seq %d..%d are not covered by a signed checkpoint yet\n", rep.MatchedCheckpoint+1, rep.LastSeq)
	}
	if rep.OK() {
		fmt.Fprintln(w, "OK: no tampering found")
		return
	}
	fmt.Fprintf(w, "FAILED: %d finding(s)\n", len(rep.Findings)+rep.Omitted)
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
	if rep.Omitted > 0 {
		fmt.Fprintf(w, "  … and %d more\n", rep.Omitted)
	}
}

func newAuditCheckpointCmd(e *env) *cobra.Command {
	var keyFile, origin string
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign a checkpoint of the records stored now (the gateway also signs periodically)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := e.auditSigningKey(keyFile)
			if err != nil {
				return err
			}
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			cp, err := audit.SignStoredCheckpoint(cmd.Context(), db, key, origin, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed checkpoint: size %d, root %s, key %s, at %s\n",
				cp.Size, cp.Root, cp.KeyID, cp.Time.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "checkpoint-key-file", "", "Ed25519 signing key (PEM or base64 seed); default: ASSIST_AUDIT_CHECKPOINT_KEY_FILE or --config")
	cmd.Flags().StringVar(&origin, "origin", audit.DefaultOrigin, "log name in the checkpoint (must match the gateway's)")
	return cmd
}

func newAuditGrantCmd(e *env) *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "grant --role ROLE",
		Short: "Give an existing database role what the gateway needs: INSERT/SELECT only on the audit tables",
		Long: `Run as the owner of the tables (the role that ran the migrations), and
again after every migrate. ROLE gets INSERT and SELECT on the audit tables
(no UPDATE, DELETE or TRUNCATE), SELECT on the migration versions and
read/write on the other tables. The gateway should connect as ROLE, never
as the owner: an owner can drop the append-only triggers. Create the role
first, e.g.
  CREATE ROLE assist_app LOGIN PASSWORD '...';`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := schema.GrantApp(cmd.Context(), db, role); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "granted %s INSERT and SELECT only on the audit tables, SELECT on the migration versions, read/write on the rest\n", role)
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "database role the gateway connects as")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func newAuditKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out DIR",
		Short: "Create the audit keys: checkpoint signing key pair, HMAC pseudonymisation key, content encryption key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			files := []struct {
				name string
				data []byte
				mode os.FileMode
			}{
				{"checkpoint.key", audit.MarshalPrivateKey(priv), 0o600},
				{"checkpoint.pub", audit.MarshalPublicKey(pub), 0o644},
				{"hmac.key", randomKey(), 0o600},
				{"content.key", randomKey(), 0o600},
			}
			for _, f := range files {
				if _, err := os.Stat(filepath.Join(out, f.name)); err == nil {
					return assist.Errorf(assist.KindConflict, "%s already exists; keys are never overwritten", filepath.Join(out, f.name))
				}
			}
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(out, f.name), f.data, f.mode); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s: checkpoint.key, checkpoint.pub (key id %s), hmac.key, content.key\n", out, audit.KeyID(pub))
			fmt.Fprintln(w, "configure: audit.checkpoint_key_file, audit.hmac_key_file, audit.content_key_file (optional)")
			fmt.Fprintln(w, "give checkpoint.pub to auditors; keep hmac.key for the life of the log")
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the keys to")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// randomKey is 32 random bytes in base64, a form the configuration reads.
func randomKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(b) + "\n")
}
