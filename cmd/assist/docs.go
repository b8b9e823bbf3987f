package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/assist/audit"
	"github.com/soteai/gateway/cmd/internal/config"
	"github.com/soteai/gateway/models"
	"github.com/soteai/gateway/models/ollama"
	"github.com/soteai/gateway/retrieval"
	"github.com/soteai/gateway/retrieval/pgstore"
)

// retrievalOpener builds the retrieval service for one command and returns
// it with the database it stores into, where the command's changes are
// recorded in the audit log; the returned function releases what it opened.
type retrievalOpener func(ctx context.Context) (*retrieval.Service, *pgxpool.Pool, func(), error)

// newDocsCmd is "assist docs": ingest, search, list, delete and re-embed
// retrieval documents. open is normally e.openRetrieval. Every applied
// change is recorded in the audit log named by --config, with the kinds
// and attributes the HTTP API records (see retrieval.IngestAttrs).
func newDocsCmd(e *env, open retrievalOpener) *cobra.Command {
	cmd := &cobra.Command{Use: "docs", Short: "Manage retrieval documents: ingest, search, list, delete, reembed"}
	cmd.AddCommand(newDocsIngestCmd(e, open), newDocsSearchCmd(open), newDocsListCmd(open), newDocsDeleteCmd(e, open), newDocsReembedCmd(e, open), newDocsGlossaryCmd(e, open))
	return cmd
}

// docsChanges names the docs commands' changes in the note printed when
// they are not recorded.
const docsChanges = "document changes"

func newDocsIngestCmd(e *env, open retrievalOpener) *cobra.Command {
	var (
		collection, lang, model, title, charset string
		meta                                    []string
		noProgress                              bool
	)
	cmd := &cobra.Command{
		Use:   "ingest PATH... --collection NAME",
		Short: "Add or update documents (.md, .txt, .html, .pdf; directories are walked)",
		Long: `Ingest parses, chunks, embeds and stores documents. A file's source key is
its base name; files found in a directory are keyed by their path relative to
it. Re-ingesting an unchanged file does nothing; a changed file replaces its
chunks atomically. A file that fails is reported and the others go on.
With --config, each ingested file is recorded in the audit log (unchanged
ones too); when a record cannot be written the command stops there.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			metadata, err := parsePairs(meta)
			if err != nil {
				return err
			}
			files, err := collectFiles(args)
			if err != nil {
				return err
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
			errOut := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if !noProgress {
				bar = progressbar.NewOptions(len(files), progressbar.OptionSetWriter(errOut),
					progressbar.OptionSetDescription("ingesting"), progressbar.OptionShowCount(),
					progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
			}
			failed := 0
			var results []string
			report := func() {
				if bar != nil {
					_ = bar.Finish()
				}
				for _, r := range results {
					fmt.Fprintln(cmd.OutOrStdout(), r)
				}
			}
			for i, f := range files {
				if bar != nil {
					bar.Describe(truncate(f.source, 30))
				}
				start := time.Now()
				res, sum, err := ingestFile(cmd.Context(), svc, f, retrieval.IngestRequest{
					Collection: collection, Lang: lang, Model: model, Title: title, Charset: charset, Metadata: metadata,
				})
				if bar != nil {
					_ = bar.Add(1)
				}
				if err != nil {
					if assist.KindOf(err) == assist.KindCanceled || cmd.Context().Err() != nil {
						return err
					}
					failed++
					results = append(results, fmt.Sprintf("FAILED  %s: %s", f.source, assist.MessageOf(err)))
					continue
				}
				seq, err := rec.record(cmd.Context(), ingestEvent(collection, f.source, sum[:], res, time.Since(start)))
				if err != nil {
					report()
					hint := "ingest it again once the audit log is back to record it"
					if rest := len(files) - i - 1; rest > 0 {
						hint += fmt.Sprintf("; the %d file(s) after it were not ingested", rest)
					}
					return notRecorded("docs.ingest", fmt.Sprintf("%s ingested as document %d (%s)", f.source, res.DocumentID, res.Status), hint, err)
				}
				line := fmt.Sprintf("%-9s %s (document %d, %s, %d chunks, %d embedded", res.Status, f.source, res.DocumentID, res.Lang, res.Chunks, res.Embedded)
				if seq > 0 {
					line += fmt.Sprintf(", audit seq %d", seq)
				}
				results = append(results, line+")")
			}
			report()
			if failed > 0 {
				return fmt.Errorf("%d of %d files failed", failed, len(files))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "collection name (created on first ingest)")
	cmd.Flags().StringVar(&lang, "lang", "auto", "document language: fi, sv, en, another ISO 639-1 code, und, or auto to detect")
	cmd.Flags().StringVar(&model, "model", "", "embedding model of a new collection (default: models.embedding in the configuration)")
	cmd.Flags().StringVar(&title, "title", "", "document title (default: the document's own heading or title)")
	cmd.Flags().StringVar(&charset, "charset", "", "character encoding of text files if not UTF-8, e.g. windows-1252")
	cmd.Flags().StringArrayVar(&meta, "meta", nil, "metadata KEY=VALUE for every file (repeatable)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "do not draw a progress bar")
	_ = cmd.MarkFlagRequired("collection")
	return cmd
}

type inputFile struct{ path, source string }

// collectFiles expands directories into the supported files they contain.
func collectFiles(args []string) ([]inputFile, error) {
	var out []inputFile
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, inputFile{path: a, source: filepath.Base(a)})
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf":
				rel, err := filepath.Rel(a, p)
				if err != nil {
					return err
				}
				out = append(out, inputFile{path: p, source: filepath.ToSlash(rel)})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, assist.Errorf(assist.KindInvalid, "no .md, .txt, .html or .pdf files found")
	}
	return out, nil
}

// ingestFile reads one file, refusing it before reading when it is over
// the service's size limit, and ingests it. It returns the result and the
// SHA-256 of the file's bytes.
func ingestFile(ctx context.Context, svc *retrieval.Service, f inputFile, req retrieval.IngestRequest) (retrieval.IngestResult, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	fh, err := os.Open(f.path)
	if err != nil {
		return retrieval.IngestResult{}, sum, assist.E(assist.KindInvalid, "docs.ingest", "cannot read the file", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, svc.MaxDocumentBytes()+1))
	if err != nil {
		return retrieval.IngestResult{}, sum, assist.E(assist.KindInvalid, "docs.ingest", "cannot read the file", err)
	}
	req.Source, req.Data = f.source, data
	res, err := svc.Ingest(ctx, req)
	return res, sha256.Sum256(data), err
}

// ingestEvent is the audit record of an applied ingest, as the HTTP route
// writes it: the collection's model, the SHA-256 of the file's bytes as
// input (not the document itself), the result as output, and the attrs of
// retrieval.IngestAttrs.
func ingestEvent(collection, source string, sum []byte, res retrieval.IngestResult, latency time.Duration) audit.Event {
	out, _ := json.Marshal(res) // plain fields only: it cannot fail
	return audit.Event{Kind: audit.KindRetrievalIngest, Model: res.Model.Name, ModelDigest: res.Model.Digest,
		InputHash: sum, Output: out, Latency: latency, Outcome: audit.OutcomeOK,
		Attrs: retrieval.IngestAttrs(collection, source, &res)}
}

// recordApplied records an applied change, then prints done (what was
// changed) and the record's sequence number. When the record cannot be
// written the command fails saying the change was applied but not
// recorded.
func recordApplied(cmd *cobra.Command, rec *recorder, op string, ev audit.Event, done string) error {
	seq, err := rec.record(cmd.Context(), ev)
	if err != nil {
		return notRecorded(op, done, "", err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), done)
	if seq > 0 {
		warnTo(cmd)(fmt.Sprintf("recorded in the audit log as seq %d", seq))
	}
	return nil
}

// notRecorded is the error of a change that was applied (done says what
// it was) but whose audit record could not be written; hint, if any, says
// how to record it later.
func notRecorded(op, done, hint string, err error) error {
	msg := "the change was applied but could not be recorded in the audit log: " + done
	if hint != "" {
		msg += "; " + hint
	}
	return assist.E(assist.KindUnavailable, op, msg, err)
}

// closeRecorder closes rec when a command ends, reporting its error in
// *err unless the command failed already.
func closeRecorder(rec *recorder, err *error) {
	if cerr := rec.close(); *err == nil {
		*err = cerr
	}
}

func newDocsSearchCmd(open retrievalOpener) *cobra.Command {
	var (
		q      retrieval.Query
		mode   string
		meta   []string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "search QUERY --collection NAME",
		Short: "Search a collection (hybrid by default) and print passages with citations",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if q.Mode, err = retrieval.ParseMode(mode); err != nil {
				return err
			}
			if q.Metadata, err = parsePairs(meta); err != nil {
				return err
			}
			q.Text = strings.Join(args, " ")
			svc, _, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			hits, err := svc.Search(cmd.Context(), q)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(hits)
			}
			rs := hits.Results
			for i, r := range rs {
				fmt.Fprintf(out, "%d. %s [%d:%d] %s (%s)\n", i+1, r.Source, r.Start, r.End, strings.Join(r.HeadingPath, " > "), r.Lang)
				fmt.Fprintf(out, "   %s\n", scoreLine(r.Scores))
				fmt.Fprintf(out, "   %s\n\n", strings.ReplaceAll(truncate(r.Text, 400), "\n", "\n   "))
			}
			if len(rs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no results")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&q.Collection, "collection", "", "collection to search")
	cmd.Flags().StringVar(&mode, "mode", "hybrid", "vector, fulltext or hybrid")
	cmd.Flags().IntVarP(&q.K, "k", "k", 5, "number of results")
	cmd.Flags().StringSliceVar(&q.Languages, "lang", nil, "only documents in these languages (repeatable or comma-separated)")
	cmd.Flags().StringArrayVar(&meta, "meta", nil, "only documents with metadata KEY=VALUE (repeatable)")
	cmd.Flags().StringVar(&q.Model, "model", "", "embedding model the caller expects (refused if it is not the collection's)")
	cmd.Flags().IntVar(&q.EfSearch, "ef-search", 0, "HNSW ef_search for this query (default: the collection's)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("collection")
	return cmd
}

func scoreLine(s retrieval.Scores) string {
	var parts []string
	if s.RRF > 0 {
		parts = append(parts, fmt.Sprintf("rrf %.4f", s.RRF))
	}
	if s.VectorDistance != nil {
		parts = append(parts, fmt.Sprintf("distance %.4f (#%d)", *s.VectorDistance, s.VectorRank))
	}
	if s.TSRank != nil {
		parts = append(parts, fmt.Sprintf("ts_rank %.4f (#%d)", *s.TSRank, s.TextRank))
	}
	return strings.Join(parts, ", ")
}

func newDocsListCmd(open retrievalOpener) *cobra.Command {
	var collection string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--collection NAME]",
		Short: "List collections, or the documents of one collection, with counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, _, closeFn, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			out := cmd.OutOrStdout()
			var v any
			if collection == "" {
				v, err = svc.Collections(cmd.Context())
			} else {
				v, err = svc.Documents(cmd.Context(), collection)
			}
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			switch v := v.(type) {
			case []retrieval.Collection:
				fmt.Fprintln(tw, "COLLECTION\tDOCUMENTS\tCHUNKS\tMODEL\tDIGEST\tDIMS\tHNSW m/ef_c/ef_s")
				for _, c := range v {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%d\t%d/%d/%d\n", c.Name, c.Documents, c.Chunks, c.Model.Name,
						shortDigest(c.Model.Digest), c.Model.Dims, c.Index.M, c.Index.EfConstruction, c.Index.EfSearch)
				}
			case []retrieval.Document:
				fmt.Fprintln(tw, "ID\tSOURCE\tTITLE\tLANG\tCHUNKS\tCHARS\tUPDATED")
				for _, d := range v {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.Source, truncate(d.Title, 40), d.Lang, d.Chunks, d.Chars,
						d.UpdatedAt.Format("2006-01-02 15:04"))
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "list this collection's documents")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDocsDeleteCmd(e *env, open retrievalOpener) *cobra.Command {
	var collection string
	var document int64
	var all bool
	cmd := &cobra.Command{
		Use:   "delete --collection NAME (--document ID | --all)",
		Short: "Delete one document, or a whole collection with --all",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if (document > 0) == all {
				return assist.Errorf(assist.KindInvalid, "give either --document ID or --all")
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
			start := time.Now()
			if all {
				c, err := svc.DeleteCollection(cmd.Context(), collection)
				if err != nil {
					return err
				}
				ev := audit.Event{Kind: audit.KindRetrievalDeleteCollection, Model: c.Model.Name, ModelDigest: c.Model.Digest,
					Latency: time.Since(start), Outcome: audit.OutcomeOK, Attrs: retrieval.DeleteCollectionAttrs(collection, &c)}
				return recordApplied(cmd, rec, "docs.delete", ev,
					fmt.Sprintf("deleted collection %s (%d documents, %d chunks)", collection, c.Documents, c.Chunks))
			}
			d, err := svc.DeleteDocument(cmd.Context(), collection, document)
			if err != nil {
				return err
			}
			ev := audit.Event{Kind: audit.KindRetrievalDelete, Latency: time.Since(start), Outcome: audit.OutcomeOK,
				Attrs: retrieval.DeleteDocumentAttrs(collection, document, &d)}
			return recordApplied(cmd, rec, "docs.delete", ev, fmt.Sprintf("deleted document %d (%s) from %s", document, d.Source, collection))
		},
	}
	cmd.Flags().StringVar(&collection, "collection", "", "collection name")
	cmd.Flags().Int64Var(&document, "document", 0, "document id (see docs list --collection)")
	cmd.Flags().BoolVar(&all, "all", false, "delete the whole collection")
	_ = cmd.MarkFlagRequired("collection")
	return cmd
}

func newDocsReembedCmd(e *env, open retrievalOpener) *cobra.Command {
	var req retrieval.ReembedRequest
	var queryPrefix, docPrefix string
	var noProgress bool
	cmd := &cobra.Command{
		Use:   "reembed --collection NAME --model MODEL",
		Short: "Move a collection to another embedding model (or a new version of it), atomically",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if cmd.Flags().Changed("query-prefix") {
				req.QueryPrefix = &queryPrefix
			}
			if cmd.Flags().Changed("document-prefix") {
				req.DocumentPrefix = &docPrefix
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
			// The model the collection moves from, for the record.
			before, err := svc.Collection(cmd.Context(), req.Collection)
			if err != nil {
				return err
			}
			finish := func() {}
			if !noProgress {
				bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription("re-embedding chunks"), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
				req.Progress = func(done, total int) {
					bar.ChangeMax(total)
					_ = bar.Set(done)
				}
				finish = func() { _ = bar.Finish() }
			}
			start := time.Now()
			c, err := svc.Reembed(cmd.Context(), req)
			finish()
			if err != nil {
				return err
			}
			ev := audit.Event{Kind: audit.KindRetrievalReembed, Model: c.Model.Name, ModelDigest: c.Model.Digest,
				Latency: time.Since(start), Outcome: audit.OutcomeOK, Attrs: retrieval.ReembedAttrs(before.Model, c)}
			return recordApplied(cmd, rec, "docs.reembed", ev, fmt.Sprintf("collection %s: %d chunks now embedded with %s (%s, %d dims)",
				c.Name, c.Chunks, c.Model.Name, shortDigest(c.Model.Digest), c.Model.Dims))
		},
	}
	cmd.Flags().StringVar(&req.Collection, "collection", "", "collection name")
	cmd.Flags().StringVar(&req.Model, "model", "", "embedding model to move to")
	cmd.Flags().IntVar(&req.Index.M, "m", 0, "new HNSW m (default: keep)")
	cmd.Flags().IntVar(&req.Index.EfConstruction, "ef-construction", 0, "new HNSW ef_construction (default: keep)")
	cmd.Flags().IntVar(&req.Index.EfSearch, "ef-search", 0, "new HNSW ef_search (default: keep)")
	cmd.Flags().StringVar(&queryPrefix, "query-prefix", "", "text put before queries when embedding, e.g. 'query: '")
	cmd.Flags().StringVar(&docPrefix, "document-prefix", "", "text put before passages when embedding, e.g. 'passage: '")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "do not draw a progress bar")
	_ = cmd.MarkFlagRequired("collection")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

// openRetrieval builds the retrieval service from the configuration: the
// database, and the host pool for embeddings (the default model is
// models.embedding; the index defaults come from the retrieval section).
func (e *env) openRetrieval(ctx context.Context) (*retrieval.Service, *pgxpool.Pool, func(), error) {
	environ := e.environ
	if e.databaseURL != "" {
		environ = append(append([]string(nil), environ...), "ASSIST_DATABASE_URL="+e.databaseURL)
	}
	cfg, err := config.Load(e.configPath, environ)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := e.open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	oc := ollama.NewClient(ollama.HTTPOptions{})
	pool := models.NewPool(cfg.PoolHosts(), oc, cfg.PoolOptions(), slog.New(slog.DiscardHandler))
	pool.Start(ctx)
	svc, err := retrieval.New(retrieval.Config{
		Store:        pgstore.New(db),
		Embedder:     &ollama.Service{Pool: pool, Client: oc},
		DefaultModel: cfg.Models.Embedding,
		Index:        retrieval.IndexParams{M: cfg.Retrieval.HNSWM, EfConstruction: cfg.Retrieval.HNSWEfConstruction, EfSearch: cfg.Retrieval.HNSWEfSearch},
		Parse:        retrieval.ParseOptions{MaxBytes: cfg.Retrieval.MaxDocumentBytes, PDF: retrieval.PDFToText{}},
	})
	if err != nil {
		pool.Close()
		db.Close()
		return nil, nil, nil, err
	}
	return svc, db, func() { pool.Close(); db.Close() }, nil
}

func parsePairs(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, assist.Errorf(assist.KindInvalid, "metadata must be KEY=VALUE, got %q", p)
		}
		m[k] = v
	}
	return m, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
