// Package speech is the audio side of real-time interpretation: decoding
// what clients send (WAV via go-audio/wav, PCM16 frames), resampling any
// of 8/16/44.1/48 kHz to the engine rate with a polyphase windowed-sinc
// filter, a streaming voice-activity detector that cuts the stream into
// utterances, WAV encoding of synthesized speech, and the Transcriber and
// Synthesizer interfaces that the engines in its subpackages implement
// (pocketsphinx in-process, openaistt for upstream hosts, espeak for
// synthesis).
//
// It imports the vocabulary package and audio libraries only; it must not
// import the HTTP layer, the database or the model packages.
package speech
