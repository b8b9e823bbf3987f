// Package redflags finds red flags — symptoms that set a minimum urgency —
// in patients' chat messages in Finnish, Swedish and English, by
// deterministic rules. The rules are versioned data (embedded YAML under
// rules/), each citing the public triage criteria it follows (NHS 111 and
// NHS "when to call 999", NICE, Käypä hoito, 1177 Vårdguiden, BE-FAST,
// Columbia suicide severity screening).
//
// Matching works on lower-cased word tokens: a concept is a set of short
// word patterns per language (prefixes for Finnish inflection, small gaps
// for word order), and a concept found under a negation ("ei rintakipua",
// "ingen andnöd", "no chest pain"), a hypothetical ("in case I get chest
// pain") or a history cue ("previously") does not count; such matches are
// reported separately so a nurse sees what was denied. Negation scope ends
// at sentence and clause punctuation (commas included: a list after a
// comma is read as asserted, which errs toward flagging) and at contrast
// words ("mutta", "men", "but"). Phrases such as "ei mene ohi", "går inte
// över" or "won't go away" are not negations.
//
// No language model takes part: the same messages always give the same
// flags. The package does no I/O beyond its embedded files, keeps no
// state between calls and logs nothing; it imports only the standard
// library, the YAML decoder and the assist vocabulary, and must not import
// assist/clinic, httpapi, models, retrieval or the audit log.
package redflags
