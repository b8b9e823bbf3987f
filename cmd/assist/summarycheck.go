package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/assist/summary/grounding"
	"github.com/soteai/gateway/risk"
)

// newSummaryCmd is "assist summary": visit notes and summaries. Its check
// command runs the grounding checker locally (no model, no gateway).
func newSummaryCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "summary", Short: "Visit notes and summaries: check a draft against its transcript"}
	cmd.AddCommand(newSummaryCheckCmd(e))
	return cmd
}

func newSummaryCheckCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Check a draft's sentences against a transcript (deterministic grounding checker)",
		Long: `check reads {"transcript":[{"id","speaker","text"}], "draft":[{"id","text","cites"}],
"lang":"fi|sv|en"} from FILE ("-" for standard input) and prints, per sentence,
whether the transcript supports it, its flags (medication, dose, frequency,
number, date, laterality, negation, allergy, finding) with their evidence, and
its cites (proposed when the sentence gave none). No model is involved.
With --config the check is recorded in the audit log (kind summary.check) before
anything is printed; without it, nothing is recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			body, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			var req grounding.Request
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
					return assist.Errorf(assist.KindInvalid, "%s: unknown field %s", args[0], f)
				}
				return assist.Errorf(assist.KindInvalid, "%s is not a JSON check request: %v", args[0], err)
			}
			kb, err := risk.DefaultKB()
			if err != nil {
				return err
			}
			res, err := grounding.New(kb).CheckRequest(req, grounding.Limits{})
			if err != nil {
				return err
			}
			out, err := json.Marshal(res)
			if err != nil {
				return err
			}
			if err := e.recordCheck(cmd, req, body, out, res); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				var buf bytes.Buffer
				_ = json.Indent(&buf, out, "", "  ")
				buf.WriteByte('\n')
				_, err := w.Write(buf.Bytes())
				return err
			}
			return printCheck(w, res)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answer as JSON (as POST /v1/summaries/check does)")
	return cmd
}

// readInput reads a file, or standard input for "-".
func readInput(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, assist.Errorf(assist.KindInvalid, "%v", err)
	}
	return b, nil
}

// recordCheck records the check in the audit log named by --config (the
// record POST /v1/summaries/check writes); without it, it says so.
func (e *env) recordCheck(cmd *cobra.Command, req grounding.Request, in, out []byte, res grounding.Response) (err error) {
	if e.configPath == "" {
		warnTo(cmd)("note: not recorded in the audit log (give --config to record grounding checks)")
		return nil
	}
	db, err := e.open(cmd.Context())
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := e.recorder(cmd.Context(), db, warnTo(cmd), "grounding checks")
	if err != nil {
		return err
	}
	defer closeRecorder(rec, &err)
	attrs := map[string]string{"checker": "grounding", "lang": req.Lang, "sentences": strconv.Itoa(len(res.Sentences)),
		"unsupported": strconv.Itoa(res.Unsupported), "turns": strconv.Itoa(len(req.Transcript)), "route": "cli"}
	if res.Catalogue != "" {
		attrs["catalogue"] = res.Catalogue
	}
	seq, err := rec.record(cmd.Context(), audit.Event{Kind: audit.KindSummaryCheck, Task: assist.TaskSummary, Input: in, Output: out,
		Outcome: audit.OutcomeOK, Attrs: attrs})
	if err != nil {
		return fmt.Errorf("the check could not be recorded in the audit log, so it is not shown: %w", err)
	}
	if seq > 0 {
		warnTo(cmd)(fmt.Sprintf("recorded in the audit log as seq %d", seq))
	}
	return nil
}

// printCheck prints one line per sentence and one per flag.
func printCheck(w io.Writer, res grounding.Response) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range res.Sentences {
		verdict := "supported"
		if !s.Supported {
			verdict = "UNSUPPORTED"
		}
		cites := strings.Join(s.Cites, ",")
		if s.Proposed {
			cites = "proposed " + cites
		}
		fmt.Fprintf(tw, "%s\t%s\tcites %s\n", s.ID, verdict, cites)
		for _, f := range s.Flags {
			src := ""
			if len(f.Sources) > 0 {
				src = " [" + strings.Join(f.Sources, ",") + "]"
			}
			fmt.Fprintf(tw, "\t  %s\t%q: %s%s\n", f.Type, f.Text, f.Evidence, src)
		}
	}
	fmt.Fprintf(tw, "%d supported, %d unsupported\n", res.Supported, res.Unsupported)
	return tw.Flush()
}
