// Package pocketsphinx is the in-process CPU speech recogniser: CMU
// PocketSphinx (Debian's libpocketsphinx, 5prealpha) with its general US
// English model, through cgo. It serves English only and says so for any
// other language. It is the engine of last resort when no upstream
// transcription host serves, and needs no network.
//
// It is the only package that links PocketSphinx; it imports speech and
// the vocabulary package, nothing of the HTTP layer or the model pool.
package pocketsphinx
