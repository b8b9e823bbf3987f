// Package speech is the audio side of real-time interpretation: decoding
// the audio clients send (WAV via go-audio/wav), and, in the interpretation
// wave, voice-activity detection, recognition and synthesis engines behind
// small interfaces.
//
// It imports the vocabulary package and audio libraries only; it must not
// import the HTTP layer, the database or the model packages.
package speech
