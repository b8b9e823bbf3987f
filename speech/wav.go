package speech

import (
	"errors"
	"io"
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

// DecodeWAV reads a PCM WAV file (8/16/24/32-bit integer, any channel
// count, mixed down to mono). Errors are kind invalid with a message that
// says what is wrong, or too_large past MaxDuration.
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
	d := wav.NewDecoder(r)
	if !d.IsValidFile() {
		return Audio{}, assist.E(assist.KindInvalid, op, "the audio is not a valid WAV file")
	}
	if d.WavAudioFormat != 1 {
		return Audio{}, assist.E(assist.KindInvalid, op, "only PCM WAV audio is accepted")
	}
	rate, ch, bits := int(d.SampleRate), int(d.NumChans), int(d.BitDepth)
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
				if bits == 8 {
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
