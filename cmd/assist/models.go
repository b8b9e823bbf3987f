package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/approve"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/models/releases"
)

// newModelsCmd is "assist models": the model releases of the gateway's
// tasks — list them, approve one on the strength of an evaluation run,
// withdraw one. Decisions are audit records (--config names the log).
func newModelsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "Model releases per task: list, approve after an evaluation, withdraw"}
	cmd.AddCommand(newModelsListCmd(e), newModelsApproveCmd(e), newModelsWithdrawCmd(e))
	return cmd
}

// workflow opens the release workflow with the audit log of --config.
func (e *env) workflow(ctx context.Context) (*approve.Workflow, *evalEnv, error) {
	v, err := e.openEval(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	w := &approve.Workflow{Releases: releases.NewStore(v.db), Runs: v.store}
	if v.cfg.AuditEnabled() && e.configPath != "" {
		opts, err := v.cfg.AuditOptions(nil)
		if err != nil {
			v.close()
			return nil, nil, err
		}
		opts.CheckpointEvery, opts.PurgeEvery = -1, -1
		if v.log, err = audit.Open(ctx, v.db, opts); err != nil {
			v.close()
			return nil, nil, fmt.Errorf("audit log: %w", err)
		}
		w.Audit = v.log
	}
	return w, v, nil
}

func newModelsListCmd(e *env) *cobra.Command {
	var task string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List model releases (candidate, approved, withdrawn) per task",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, v, err := e.workflow(cmd.Context())
			if err != nil {
				return err
			}
			defer v.close()
			rels, err := w.Releases.List(cmd.Context(), assist.Task(task))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rels)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTASK\tMODEL\tDIGEST\tSTATUS\tRUN\tDECIDED BY\tDECIDED\tREASON")
			for _, r := range rels {
				decided := ""
				if r.Decided != nil {
					decided = r.Decided.Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Task, r.Model, shortDigest(r.Digest), r.Status, r.RunID,
					r.DecidedBy, decided, truncate(r.Reason, 40))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&task, "task", "", "only this task")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newModelsApproveCmd(e *env) *cobra.Command {
	var task, run, hash, reason, purpose string
	cmd := &cobra.Command{
		Use:   "approve --run RUN --report-sha256 HASH --reason TEXT [--task TASK]",
		Short: "Approve the model release an evaluation run tested, for the task its suite qualifies",
		Long: `approve makes the model (name and digest) of a finished, passed evaluation run
the approved release of the task its suite qualifies (--task must agree when given),
replacing the task's previous release. --report-sha256 is the SHA-256 of the report
you read (assist eval show RUN --report FILE prints it); the report is rendered again
and must match. The decision is an audit record; without the audit log it is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			w, v, err := e.workflow(ctx)
			if err != nil {
				return err
			}
			defer v.close()
			rel, err := w.Approve(ctx, approve.Request{Task: assist.Task(task), RunID: run, ReportHash: hash, Reason: reason,
				Purpose: purpose, Actor: v.actor})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "release %d approved: %s %s for %s (run %s, report %s, audit seq %d)\n",
				rel.ID, rel.Model, shortDigest(rel.Digest), rel.Task, rel.RunID, shortDigest(rel.ReportHash), rel.AuditSeq)
			return nil
		},
	}
	cmd.Flags().StringVar(&task, "task", "", "task (default: the one the run's suite qualifies)")
	cmd.Flags().StringVar(&run, "run", "", "evaluation run id")
	cmd.Flags().StringVar(&hash, "report-sha256", "", "SHA-256 of the report you read")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	cmd.Flags().StringVar(&purpose, "purpose", "", "intended purpose of the release")
	_ = cmd.MarkFlagRequired("run")
	_ = cmd.MarkFlagRequired("report-sha256")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newModelsWithdrawCmd(e *env) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "withdraw RELEASE_ID --reason TEXT",
		Short: "Withdraw a model release: its task is no longer served by it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return assist.E(assist.KindInvalid, "assist.models", "the release id must be a number")
			}
			ctx := cmd.Context()
			w, v, err := e.workflow(ctx)
			if err != nil {
				return err
			}
			defer v.close()
			rel, err := w.Withdraw(ctx, id, reason, v.actor)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "release %d withdrawn: %s %s for %s (audit seq %d)\n", rel.ID, rel.Model, shortDigest(rel.Digest), rel.Task, rel.AuditSeq)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}
