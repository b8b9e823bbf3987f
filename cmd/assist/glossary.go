package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/interpret"
)

// newDocsGlossaryCmd is "assist docs glossary": it loads terminology files
// (TICO-19 JSON lines: an id and one field per language) into a glossary
// collection, one small document per entry, which interpretation sessions
// search for the terms said in each segment.
func newDocsGlossaryCmd(e *env, open retrievalOpener) *cobra.Command {
	var collection, model string
	cmd := &cobra.Command{
		Use:   "glossary FILE.jsonl... --collection NAME",
		Short: "Load terminology (TICO-19 JSON lines) into a glossary collection for interpretation",
		Long: `Glossary loads each entry of the files as one document (source FILE-BASE/ID,
language "und", each language's term in the metadata as term.LANG). Loading a
file again changes only the entries that changed. With --config every entry is
recorded in the audit log like any ingest. Start a session with
"glossary": NAME to use it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			type file struct {
				name    string
				entries []interpret.GlossaryEntry
			}
			var files []file
			for _, p := range args {
				f, err := os.Open(p)
				if err != nil {
					return assist.E(assist.KindInvalid, "docs.glossary", "cannot read "+p, err)
				}
				entries, err := interpret.ReadTICO19(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("%s: %s", p, assist.MessageOf(err))
				}
				files = append(files, file{strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), entries})
			}
			svc, db, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			rec, err := e.recorder(cmd.Context(), db, warnTo(cmd), docsChanges)
			if err != nil {
				return err
			}
			defer closeRecorder(rec, &err)
			for _, f := range files {
				counts := map[string]int{}
				for _, entry := range f.entries {
					req := entry.IngestRequest(collection, f.name)
					req.Model = model
					start := time.Now()
					res, err := svc.Ingest(cmd.Context(), req)
					if err != nil {
						return fmt.Errorf("%s entry %s: %s", f.name, entry.ID, assist.MessageOf(err))
					}
					sum := sha256.Sum256(req.Data)
					if _, err := rec.record(cmd.Context(), ingestEvent(collection, req.Source, sum[:], res, time.Since(start))); err != nil {
						return notRecorded("docs.glossary", req.Source+" ingested", "load the file again once the audit log is back", err)
					}
					counts[string(res.Status)]++
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d entries into %s (%d created, %d updated, %d unchanged)\n", f.name, len(f.entries), collection,
					counts["created"], counts["updated"], counts["unchanged"])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "glossary collection (created on first load)")
	cmd.Flags().StringVar(&model, "model", "", "embedding model of a new collection (default: models.embedding in the configuration)")
	_ = cmd.MarkFlagRequired("collection")
	return cmd
}
