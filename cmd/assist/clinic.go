package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/clinic"
)

func newClinicCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "clinic", Short: "Digital clinic: nurses' decisions as evaluation cases"}
	var (
		out   string
		since string
	)
	exp := &cobra.Command{
		Use:   "export-feedback --out FILE",
		Short: "Write the nurses' decisions on clinic suggestions as evaluation cases (JSON lines)",
		Long: `Reads every clinic.decision record of the audit log named by --config and
writes one evaluation case per decision (task clinic_triage, the format of
evals/suite/builtin/data/clinic_triage.jsonl): the conversation from the suggestion's
stored content, the urgency the nurse set and the reply sent. The contents
are read with the audit log's content key (audit.content_key_file); a
decision whose contents were never stored, or are past retention, is
counted and skipped. The file holds patient text: keep it where the
county's evaluation data is kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("give --out FILE")
			}
			var from time.Time
			if since != "" {
				t, err := time.Parse("2006-01-02", since)
				if err != nil {
					return fmt.Errorf("--since: want YYYY-MM-DD")
				}
				from = t
			}
			return e.exportFeedback(cmd.Context(), out, from, func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) })
		},
	}
	exp.Flags().StringVar(&out, "out", "", "output file (JSON lines)")
	exp.Flags().StringVar(&since, "since", "", "only decisions recorded on or after this date (YYYY-MM-DD)")
	cmd.AddCommand(exp)
	return cmd
}

func (e *env) exportFeedback(ctx context.Context, out string, since time.Time, note func(string)) error {
	if e.configPath == "" {
		return fmt.Errorf("give --config: the audit log and its content key come from the configuration")
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if !cfg.AuditEnabled() {
		return fmt.Errorf("the audit log is disabled in the configuration")
	}
	db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	opts, err := cfg.AuditOptions(nil)
	if err != nil {
		return err
	}
	opts.CheckpointEvery, opts.PurgeEvery = -1, -1
	l, err := audit.Open(ctx, db, opts)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer l.Close()
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	written, skipped := 0, 0
	q := audit.Query{Kind: audit.KindClinicDecision, From: since, Ascending: true, Limit: 500}
	for {
		page, err := l.Query(ctx, q)
		if err != nil {
			f.Close()
			return err
		}
		for _, en := range page.Entries {
			dc, err1 := l.Content(ctx, en.Record.Seq)
			sc, err2 := l.Content(ctx, en.Record.RelatesTo)
			if err1 != nil || err2 != nil {
				if k := assist.KindOf(firstErr(err1, err2)); k != assist.KindNotFound {
					f.Close()
					return fmt.Errorf("decision %d: %w", en.Record.Seq, firstErr(err1, err2))
				}
				skipped++
				continue
			}
			c, err := clinic.FeedbackCase(en.Record, dc.Input, sc.Input)
			if err != nil {
				skipped++
				note(assist.MessageOf(err))
				continue
			}
			b, _ := json.Marshal(c)
			w.Write(append(b, '\n'))
			written++
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	note(fmt.Sprintf("%d cases written to %s; %d decisions skipped (contents not stored or past retention)", written, out, skipped))
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
