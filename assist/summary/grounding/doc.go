// Package grounding is the deterministic grounding checker of drafted
// notes and summaries: it compares each sentence of a draft with the
// sources it cites (transcript turns, note spans or structured facts; the
// whole set when it cites none) and flags what the sources do not support:
// medications (generic names and the brands of the risk knowledge base's
// substance catalogue), doses and units (converted: g/mg/µg, l/dl/ml, …),
// frequencies, numbers (digits and number words in Finnish, Swedish and
// English), dates and weekdays, laterality, negation turned around,
// allergies, and findings the sources never mention. Each flag names its
// type and the evidence.
//
// What a careful clinician would write for the same facts must pass:
// paraphrase (lay and clinical words map to shared concepts), clinical
// abbreviations and shorthand (RR, p.o., bid, x2/vrk, pt), number words
// for digits, converted units, and Finnish and Swedish inflection and
// compounds (light prefix matching, consonant-gradation stems in the
// lexicon, compound splitting on known parts).
//
// The package is pure: no model, no I/O, no clock; the same input gives
// the same output. It imports only the vocabulary (assist) and the risk
// knowledge base's types for the substance catalogue.
package grounding
