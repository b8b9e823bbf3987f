// Package sox converts audio between WAV and the compressed formats
// clients send and ask for (FLAC, Ogg Vorbis), with the sox program as a
// subprocess under a deadline, so a malformed file cannot take the gateway
// down. It imports speech and the vocabulary package only.
package sox
