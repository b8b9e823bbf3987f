package speech

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"

	"github.com/soteai/gateway/assist"
)

// Audio is decoded mono audio with samples in [-1, 1].
type Audio struct {
	SampleRate int
	Samples    []float32
}

// Duration is the audio's length.
func (a Audio) Duration() time.Duration {
	if a.SampleRate == 0 {
		return 0
	}
	return time.Duration(len(a.Samples)) * time.Second / time.Duration(a.SampleRate)
}

// Limits bound what DecodeWAV accepts.
type Limits struct {
	MaxDuration   time.Duration // 0 means 10 minutes
	MinSampleRate int           // 0 means 8000
	MaxSampleRate int           // 0 means 48000
}

// DecodeWAV reads a PCM WAV file (8/16/24/32-bit integer or 32-bit float,
// plain or WAVE_FORMAT_EXTENSIBLE, any channel count, mixed down to mono).
// Errors are kind invalid with a message that says what is wrong, or
// too_large past MaxDuration.
func DecodeWAV(r io.ReadSeeker, lim Limits) (Audio, error) {
	const op = "speech.DecodeWAV"
	if lim.MaxDuration <= 0 {
		lim.MaxDuration = 10 * time.Minute
	}
	if lim.MinSampleRate <= 0 {
		lim.MinSampleRate = 8000
	}
	if lim.MaxSampleRate <= 0 {
		lim.MaxSampleRate = 48000
	}
	format := sampleFormat(r)
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Audio{}, assist.E(assist.KindInvalid, op, "the audio could not be read", err)
	}
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return Audio{}, assist.E(assist.KindInvalid, op, "the audio is not a valid WAV file")
	}
	rate, ch, bits := int(d.SampleRate), int(d.NumChans), int(d.BitDepth)
	isFloat := format == formatFloat
	switch {
	case format == formatPCM:
	case isFloat && bits == 32:
	case isFloat:
		return Audio{}, assist.Errorf(assist.KindInvalid, "only 32-bit float WAV is accepted, not %d-bit", bits)
	default:
		return Audio{}, assist.E(assist.KindInvalid, op, "only PCM or 32-bit float WAV audio is accepted (this WAV is compressed)")
	}
	if rate < lim.MinSampleRate || rate > lim.MaxSampleRate {
		return Audio{}, assist.Errorf(assist.KindInvalid, "the sample rate %d Hz is outside %d–%d Hz", rate, lim.MinSampleRate, lim.MaxSampleRate)
	}
	if ch < 1 || ch > 8 {
		return Audio{}, assist.Errorf(assist.KindInvalid, "the audio has %d channels", ch)
	}
	if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
		return Audio{}, assist.Errorf(assist.KindInvalid, "the audio has an unsupported bit depth of %d", bits)
	}
	maxFrames := int(lim.MaxDuration.Seconds() * float64(rate))
	out := Audio{SampleRate: rate}
	buf := &audio.IntBuffer{Data: make([]int, 4096*ch), Format: &audio.Format{NumChannels: ch, SampleRate: rate}}
	scale := float32(int64(1) << (bits - 1))
	for {
		n, err := d.PCMBuffer(buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return Audio{}, assist.E(assist.KindInvalid, op, "the WAV data is truncated or corrupt", err)
		}
		if n == 0 {
			break
		}
		for i := 0; i+ch <= n; i += ch {
			var sum float32
			for c := 0; c < ch; c++ {
				v := buf.Data[i+c]
				switch {
				case isFloat:
					f := math.Float32frombits(uint32(v))
					if f != f || f > 16 || f < -16 { // NaN or absurd: not audio
						return Audio{}, assist.E(assist.KindInvalid, op, "the float WAV data is corrupt")
					}
					sum += max(-1, min(1, f))
					continue
				case bits == 8:
					v -= 128 // 8-bit WAV is unsigned
				}
				sum += float32(v) / scale
			}
			out.Samples = append(out.Samples, sum/float32(ch))
		}
		if len(out.Samples) > maxFrames {
			return Audio{}, assist.Errorf(assist.KindTooLarge, "the audio is longer than the limit of %s", lim.MaxDuration)
		}
	}
	if len(out.Samples) == 0 {
		return Audio{}, assist.E(assist.KindInvalid, op, "the WAV file has no audio samples")
	}
	return out, nil
}

// WAV sample formats (the fmt chunk's format tag, or for
// WAVE_FORMAT_EXTENSIBLE the first two bytes of its sub-format GUID).
const (
	formatPCM        = 1
	formatFloat      = 3
	formatExtensible = 0xFFFE
)

// sampleFormat reads the fmt chunk's sample format from the start of a
// RIFF/WAVE file (0 when there is none).
func sampleFormat(r io.ReadSeeker) int {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return 0
	}
	for range 64 { // chunks before fmt: a few at most
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		if string(ch[:4]) != "fmt " {
			if _, err := r.Seek(size+size&1, io.SeekCurrent); err != nil {
				return 0
			}
			continue
		}
		body := make([]byte, min(size, 40))
		if _, err := io.ReadFull(r, body); err != nil || len(body) < 2 {
			return 0
		}
		f := int(binary.LittleEndian.Uint16(body))
		if f == formatExtensible && len(body) >= 26 {
			f = int(binary.LittleEndian.Uint16(body[24:]))
		}
		return f
	}
	return 0
}
