package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/evals"
	"github.com/soteai/gateway/risk"
	"github.com/soteai/gateway/risk/fhirin"
	"github.com/soteai/gateway/risk/riskeval"
)

// newRiskCmd is "assist risk": validate the medication knowledge base,
// assess a list locally, and run the labelled cases. None of it needs the
// database or a running gateway.
func newRiskCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "risk", Short: "Medication risk rules: validate the knowledge base, assess a list, run the labelled cases"}
	cmd.AddCommand(newRiskKBCmd(), newRiskAssessCmd(), newRiskEvalCmd())
	return cmd
}

// loadRiskKB loads the embedded knowledge base, or the one in dir (to
// check an edited rule set before it is built into a release).
func loadRiskKB(dir string) (*risk.KB, error) {
	if dir == "" {
		return risk.DefaultKB()
	}
	return risk.LoadKB(os.DirFS(dir))
}

func newRiskKBCmd() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "kb [--dir DIR]",
		Short: "Validate the knowledge base and print its version and counts",
		Long: `kb loads and validates the knowledge base (the embedded one, or the files in
--dir: manifest.yaml, drugs.yaml, classes.yaml, rules/*.yaml) and prints every
problem found. --json prints the rules, classes, drugs and sources for review.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kb, err := loadRiskKB(dir)
			if err != nil {
				// The cause lists every problem; it holds no patient data.
				var ae *assist.Error
				if errors.As(err, &ae) && ae.Err != nil {
					return fmt.Errorf("%s:\n%w", ae.Message, ae.Err)
				}
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"info": kb.Info(), "sources": kb.Sources(), "rules": kb.Rules(), "classes": kb.Classes(), "drugs": kb.Drugs()})
			}
			in := kb.Info()
			fmt.Fprintf(out, "knowledge base %s (released %s): valid\n", in.Version, in.Released)
			fmt.Fprintf(out, "%d drugs, %d classes, %d rules, %d sources\n", in.Drugs, in.Classes, in.Rules, in.Sources)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			for _, c := range risk.Categories {
				fmt.Fprintf(tw, "  %s\t%d\n", c, in.RulesByCategory[c])
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "knowledge-base directory (default: the embedded one)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole knowledge base as JSON")
	return cmd
}

func newRiskAssessCmd() *cobra.Command {
	var dir, lang string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "assess [FILE]",
		Short: "Assess a medication list (JSON request or FHIR Bundle) from FILE or standard input",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kb, err := loadRiskKB(dir)
			if err != nil {
				return err
			}
			var data []byte
			if len(args) == 1 && args[0] != "-" {
				data, err = os.ReadFile(args[0])
			} else {
				data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 8<<20))
			}
			if err != nil {
				return err
			}
			in, skipped, err := parseRiskFile(data, time.Now())
			if err != nil {
				return err
			}
			res, err := risk.Assess(kb, in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"result": res, "skipped": skipped})
			}
			printRiskResult(out, res, skipped, lang)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "knowledge-base directory (default: the embedded one)")
	cmd.Flags().StringVar(&lang, "lang", "fi", "language of titles and notes (fi or en)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full result as JSON")
	return cmd
}

// parseRiskFile accepts a risk.Input or a FHIR Bundle.
func parseRiskFile(data []byte, now time.Time) (risk.Input, []fhirin.Skipped, error) {
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return risk.Input{}, nil, assist.E(assist.KindInvalid, "assist.risk", "the input is not valid JSON", err)
	}
	if probe.ResourceType != "" {
		p, err := fhirin.ParseBundle(data, now)
		return p.Input, p.Skipped, err
	}
	var in risk.Input
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return risk.Input{}, nil, assist.E(assist.KindInvalid, "assist.risk", "the input is not a medication list request: "+err.Error())
	}
	return in, nil, nil
}

func printRiskResult(out io.Writer, res risk.Result, skipped []fhirin.Skipped, lang string) {
	fmt.Fprintf(out, "knowledge base %s\n", res.KBVersion)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tinput\tATC\tresolved by\tACB")
	for _, d := range res.Drugs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", d.Index, d.Input, d.ATC, d.Method, d.ACB)
	}
	tw.Flush()
	if k := res.Kidney; k.EGFR != nil {
		fmt.Fprintf(out, "eGFR %.0f (%s)", *k.EGFR, k.EGFRSource)
		if k.CrCl != nil {
			fmt.Fprintf(out, ", CrCl %.0f (Cockcroft–Gault)", *k.CrCl)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "ACB total %d, fall-risk drugs %d, %d flags\n\n", res.ACBTotal, res.FRIDCount, len(res.Flags))
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, f := range res.Flags {
		var names []string
		for _, d := range f.Drugs {
			names = append(names, d.Name(lang))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.ToUpper(string(f.Severity)), f.Key, f.Title.In(lang), strings.Join(names, " + "))
	}
	tw.Flush()
	for _, n := range res.Notes {
		fmt.Fprintf(out, "not assessed: %s (%s)\n", n.Message.In(lang), strings.Join(n.Rules, ", "))
	}
	for _, s := range skipped {
		fmt.Fprintf(out, "skipped %s: %s\n", s.Ref, s.Reason)
	}
}

func newRiskEvalCmd() *cobra.Command {
	var dir, cases string
	cmd := &cobra.Command{
		Use:   "eval [--cases FILE]",
		Short: "Run the labelled medication lists and print precision and recall per category",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kb, err := loadRiskKB(dir)
			if err != nil {
				return err
			}
			cs, err := evals.LoadFile(os.DirFS(filepath.Dir(cases)), filepath.Base(cases))
			if err != nil {
				return err
			}
			rep, err := riskeval.Run(kb, cs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%d cases, knowledge base %s\n%s", rep.Cases, kb.Version(), rep.Tally.Report())
			for _, m := range rep.Tally.Misses() {
				fmt.Fprintf(out, "%s %s %s (%s)\n", m.Kind, m.CaseID, m.Item, m.Label)
			}
			for _, m := range rep.NoteMisses {
				fmt.Fprintln(out, m)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "knowledge-base directory (default: the embedded one)")
	cmd.Flags().StringVar(&cases, "cases", "evals/suite/builtin/data/risk_cases.jsonl", "labelled cases (JSON Lines)")
	return cmd
}
