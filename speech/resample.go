package speech

import (
	"math"

	"github.com/soteai/gateway/assist"
)

// The resampler is a polyphase windowed-sinc filter: for a rate change by
// L/M (after dividing both rates by their greatest common divisor) it keeps
// L precomputed filter phases, each a Blackman-windowed sinc whose cutoff is
// just below the lower of the two Nyquist frequencies, so downsampling from
// 44.1 or 48 kHz removes what would alias and upsampling from 8 kHz
// interpolates without images.
const (
	resampleZeroCrossings = 16   // sinc lobes on each side of the centre
	resampleRolloff       = 0.92 // cutoff as a fraction of the lower Nyquist
)

// Resampler converts a stream of mono samples from one rate to another.
// It keeps the last few input samples between calls, so a stream cut into
// frames of any size resamples exactly as the whole would. It is not safe
// for concurrent use.
type Resampler struct {
	in, out int
	l, m    int         // out/in = l/m, reduced
	half    int         // taps on each side of the centre, in input samples
	phases  [][]float32 // l filters of 2*half taps each
	buf     []float32   // input not yet fully consumed; buf[0] is input sample base
	base    int64
	next    int64 // index of the next output sample
}

// NewResampler makes a resampler from rate in to rate out (Hz). Rates
// must be between 1 kHz and 384 kHz; the error is kind invalid.
func NewResampler(in, out int) (*Resampler, error) {
	if in < 1000 || in > 384000 || out < 1000 || out > 384000 {
		return nil, assist.Errorf(assist.KindInvalid, "cannot resample from %d Hz to %d Hz", in, out)
	}
	g := gcd(in, out)
	r := &Resampler{in: in, out: out, l: out / g, m: in / g}
	if in == out {
		return r, nil
	}
	fc := resampleRolloff * math.Min(1, float64(out)/float64(in)) // cutoff, in cycles per input sample ×2
	r.half = int(math.Ceil(resampleZeroCrossings / fc))
	r.phases = make([][]float32, r.l)
	for p := range r.phases {
		taps := make([]float32, 2*r.half)
		frac := float64(p) / float64(r.l)
		var sum float64
		hs := make([]float64, len(taps))
		for j := range taps {
			k := j - r.half + 1 // input offset from the centre sample
			t := frac - float64(k)
			h := fc * sinc(fc*t) * blackman(t/float64(r.half))
			hs[j] = h
			sum += h
		}
		for j := range taps {
			taps[j] = float32(hs[j] / sum) // unit gain at DC in every phase
		}
		r.phases[p] = taps
	}
	return r, nil
}

// Process resamples the next piece of the stream and appends the output to
// dst. The output lags the input by about half the filter length (under
// 2 ms); Flush returns the rest.
func (r *Resampler) Process(dst, in []float32) []float32 {
	if r.in == r.out {
		return append(dst, in...)
	}
	r.buf = append(r.buf, in...)
	return r.drain(dst)
}

// Flush ends the stream: it pads the input with silence and returns the
// last output samples, then resets the resampler for a new stream.
func (r *Resampler) Flush(dst []float32) []float32 {
	if r.in == r.out {
		return dst
	}
	// With half a filter of silence after the last sample, the drain
	// produces exactly ceil(inputs × out/in) samples in all.
	r.buf = append(r.buf, make([]float32, r.half)...)
	dst = r.drain(dst)
	r.buf, r.base, r.next = r.buf[:0], 0, 0
	return dst
}

func (r *Resampler) drain(dst []float32) []float32 {
	end := r.base + int64(len(r.buf))
	for {
		pos := r.next * int64(r.m)
		centre, p := pos/int64(r.l), int(pos%int64(r.l))
		last := centre + int64(r.half) // needs input up to and including last
		if last >= end {
			break
		}
		taps := r.phases[p]
		first := centre - int64(r.half) + 1
		var acc float32
		for j, h := range taps {
			i := first + int64(j) - r.base
			if i >= 0 { // before the stream began counts as silence
				acc += h * r.buf[i]
			}
		}
		dst = append(dst, acc)
		r.next++
	}
	// Keep only what the next output still needs.
	pos := r.next * int64(r.m)
	keepFrom := pos/int64(r.l) - int64(r.half) + 1
	if drop := keepFrom - r.base; drop > 0 {
		if drop > int64(len(r.buf)) {
			drop = int64(len(r.buf))
		}
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.base += drop
	}
	return dst
}

// Resample converts a whole piece of audio to the given rate.
func Resample(a Audio, rate int) (Audio, error) {
	if a.SampleRate == rate {
		return a, nil
	}
	r, err := NewResampler(a.SampleRate, rate)
	if err != nil {
		return Audio{}, err
	}
	out := make([]float32, 0, int(int64(len(a.Samples))*int64(rate)/int64(a.SampleRate))+1)
	out = r.Process(out, a.Samples)
	out = r.Flush(out)
	return Audio{SampleRate: rate, Samples: out}, nil
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window over x in [-1, 1], zero outside.
func blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	a := math.Pi * (x + 1) // 0..2π across the window
	return 0.42 - 0.5*math.Cos(a) + 0.08*math.Cos(2*a)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
