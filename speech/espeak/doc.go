// Package espeak synthesizes speech with the espeak-ng program (a voice
// per language, run as a subprocess with a deadline, WAV on its standard
// output) and, optionally for English, with flite. Both sit behind
// speech.Synthesizer so a neural TTS host can replace them.
//
// Text reaches the programs on standard input or in a private temporary
// file, never on the command line where other local users could read it.
// It imports speech and the vocabulary package only.
package espeak
