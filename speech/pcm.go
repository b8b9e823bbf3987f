package speech

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/soteai/gateway/assist"
)

// AppendPCM16 decodes little-endian signed 16-bit mono samples (the frames
// clients stream) and appends them, scaled to [-1, 1], to dst. A frame of
// odd length cannot be PCM16 and is refused with kind invalid.
func AppendPCM16(dst []float32, b []byte) ([]float32, error) {
	if len(b)%2 != 0 {
		return dst, assist.Errorf(assist.KindInvalid, "a PCM16 frame must have an even number of bytes, got %d", len(b))
	}
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, float32(int16(binary.LittleEndian.Uint16(b[i:])))/32768)
	}
	return dst, nil
}

// EncodePCM16 appends samples as little-endian signed 16-bit PCM, clipping
// to [-1, 1].
func EncodePCM16(dst []byte, samples []float32) []byte {
	for _, s := range samples {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(pcm16(s)))
	}
	return dst
}

func pcm16(s float32) int16 {
	v := math.Round(float64(s) * 32767)
	return int16(max(-32768, min(32767, v)))
}

// EncodeWAV writes mono audio as a 16-bit PCM WAV file (a canonical 44-byte
// header and the samples).
func EncodeWAV(a Audio) []byte {
	data := 2 * len(a.Samples)
	b := make([]byte, 0, 44+data)
	b = append(b, "RIFF"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16) // fmt chunk size
	b = binary.LittleEndian.AppendUint16(b, 1)  // PCM
	b = binary.LittleEndian.AppendUint16(b, 1)  // mono
	b = binary.LittleEndian.AppendUint32(b, uint32(a.SampleRate))
	b = binary.LittleEndian.AppendUint32(b, uint32(2*a.SampleRate)) // bytes per second
	b = binary.LittleEndian.AppendUint16(b, 2)                      // block align
	b = binary.LittleEndian.AppendUint16(b, 16)                     // bits per sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(data))
	return EncodePCM16(b, a.Samples)
}

// Level is the root-mean-square level of samples in dBFS (a full-scale
// sine is -3 dB); silence is -120.
func Level(samples []float32) float64 {
	if len(samples) == 0 {
		return -120
	}
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	rms := math.Sqrt(sum / float64(len(samples)))
	if rms < 1e-6 {
		return -120
	}
	return 20 * math.Log10(rms)
}

// samplesFor is the number of samples of d at rate.
func samplesFor(d time.Duration, rate int) int {
	return int(int64(d) * int64(rate) / int64(time.Second))
}

// durationOf is the length of n samples at rate.
func durationOf(n int64, rate int) time.Duration {
	return time.Duration(n * int64(time.Second) / int64(rate))
}
