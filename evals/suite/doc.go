// Package suite reads evaluation suites: data files that name a task, a
// dataset of evals.Case lines, a prompt template, the metrics to compute
// and the thresholds a model must meet. A new task's suite is one YAML
// file and its dataset; the runner (evals/runner) executes it.
//
// A suite file:
//
//	name: translation-en-fi          # unique, lower-case
//	version: 1
//	task: translation                # executor: translation | risk_assess | retrieval
//	qualifies: interpretation        # the gateway task an approval of this suite covers
//	description: English→Finnish ...
//	dataset:
//	  path: data/translation_en_fi.jsonl   # relative to the suite file, or
//	  # path: data:translation/ntrex128_first988.jsonl (under the configured data directory)
//	  format: cases                  # cases (evals.Case JSONL) | parallel (one record, one field per language)
//	  source: en                     # parallel only: source and target language fields
//	  target: fi
//	  limit: 200                     # optional: the first N cases
//	prompt:
//	  id: eval.translate
//	  version: "1"
//	  system: You are a professional medical translator.
//	  template: "Translate from {{.source_lang}} to {{.target_lang}}: {{.text}}"
//	options: {temperature: 0, num_predict: 128, seed: 1}
//	metrics: [chrf++, bleu, ter]     # the first is the primary metric
//	thresholds:                      # on the mean over cases; a failed one fails the run
//	  - {metric: chrf++, min: 20}
//	gates:                           # regression gates for "assist eval compare"
//	  - {metric: chrf++, max_drop: 2}
//	max_errors: 0                    # cases whose model call failed
//	concurrency: 2
//
// Built-in suites are embedded (Builtin); any other is read from a path.
// Datasets too large to ship live under a data directory given by the
// caller; a missing one is a clear error naming the directory setting.
//
// The package imports evals, assist and the YAML library only.
package suite
