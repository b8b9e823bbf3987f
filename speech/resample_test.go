package speech

import (
	"bytes"
	"math"
	"testing"

	"github.com/soteai/gateway/assist"
)

func sineWave(rate int, freq, amp float64, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// toneAmplitude is the amplitude of the freq component of s (a single-bin
// DFT), skipping the edges where the filter starts and ends.
func toneAmplitude(s []float32, rate int, freq float64) float64 {
	s = s[len(s)/10 : len(s)-len(s)/10]
	var re, im float64
	for i, v := range s {
		a := 2 * math.Pi * freq * float64(i) / float64(rate)
		re += float64(v) * math.Cos(a)
		im += float64(v) * math.Sin(a)
	}
	return 2 * math.Hypot(re, im) / float64(len(s))
}

func TestResample(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       int
		freq     float64 // tone at the input rate
		wantAmp  float64 // amplitude of outFreq in the 16 kHz output
		outFreq  float64
		tolerace float64
	}{
		{"48k passband tone kept", 48000, 1000, 0.5, 1000, 0.01},
		{"44.1k passband tone kept", 44100, 3000, 0.5, 3000, 0.02},
		{"8k tone kept when upsampling", 8000, 1000, 0.5, 1000, 0.01},
		{"16k passes through", 16000, 440, 0.5, 440, 0.001},
		// Nearest-sample decimation would fold 12 kHz onto 4 kHz at full
		// amplitude; the low-pass removes it.
		{"48k tone above 8 kHz does not alias", 48000, 12000, 0, 4000, 0.005},
		{"44.1k tone above 8 kHz does not alias", 44100, 12000, 0, 4100, 0.005},
		// Upsampling from 8 kHz must not create an image at 8k-1k = 7 kHz.
		{"8k upsampling makes no image", 8000, 1000, 0, 7000, 0.005},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Audio{SampleRate: tc.in, Samples: sineWave(tc.in, tc.freq, 0.5, tc.in)}
			out, err := Resample(in, EngineSampleRate)
			if err != nil {
				t.Fatal(err)
			}
			if out.SampleRate != EngineSampleRate || len(out.Samples) != EngineSampleRate {
				t.Fatalf("got %d samples at %d Hz, want one second at 16 kHz", len(out.Samples), out.SampleRate)
			}
			got := toneAmplitude(out.Samples, EngineSampleRate, tc.outFreq)
			if math.Abs(got-tc.wantAmp) > tc.tolerace {
				t.Fatalf("amplitude at %.0f Hz = %.4f, want %.4f ± %.4f", tc.outFreq, got, tc.wantAmp, tc.tolerace)
			}
		})
	}
}

// A stream cut into frames of any size resamples exactly as the whole.
func TestResamplerStreamingMatchesWhole(t *testing.T) {
	in := sineWave(44100, 440, 0.5, 44100)
	whole, err := Resample(Audio{SampleRate: 44100, Samples: in}, 16000)
	if err != nil {
		t.Fatal(err)
	}
	for _, frame := range []int{1, 7, 441, 1000, 4410} {
		r, _ := NewResampler(44100, 16000)
		var out []float32
		for i := 0; i < len(in); i += frame {
			out = r.Process(out, in[i:min(i+frame, len(in))])
		}
		out = r.Flush(out)
		if len(out) != len(whole.Samples) {
			t.Fatalf("frame %d: %d samples, want %d", frame, len(out), len(whole.Samples))
		}
		for i := range out {
			if math.Abs(float64(out[i]-whole.Samples[i])) > 1e-6 {
				t.Fatalf("frame %d: sample %d differs", frame, i)
			}
		}
	}
}

func TestNewResamplerErrors(t *testing.T) {
	for _, rates := range [][2]int{{0, 16000}, {16000, 500}, {1_000_000, 16000}} {
		if _, err := NewResampler(rates[0], rates[1]); assist.KindOf(err) != assist.KindInvalid {
			t.Fatalf("%v: got %v, want invalid", rates, err)
		}
	}
}

func TestPCM16(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []float32
		kind assist.Kind
	}{
		{"empty", nil, nil, ""},
		{"two samples", []byte{0x00, 0x40, 0x00, 0xc0}, []float32{0.5, -0.5}, ""},
		{"extremes", []byte{0xff, 0x7f, 0x00, 0x80}, []float32{32767.0 / 32768, -1}, ""},
		{"odd length", []byte{1, 2, 3}, nil, assist.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPCM16(nil, tc.in)
			if assist.KindOf(err) != tc.kind && !(err == nil && tc.kind == "") {
				t.Fatalf("err %v, want kind %q", err, tc.kind)
			}
			if err != nil {
				if assist.MessageOf(err) == "" {
					t.Fatal("no message")
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			if back := EncodePCM16(nil, got); tc.name == "two samples" && len(back) != 4 {
				t.Fatalf("encode: %v", back)
			}
		})
	}
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	a := Audio{SampleRate: 22050, Samples: sineWave(22050, 300, 0.25, 22050/2)}
	b := EncodeWAV(a)
	back, err := DecodeWAV(bytes.NewReader(b), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if back.SampleRate != a.SampleRate || len(back.Samples) != len(a.Samples) {
		t.Fatalf("got %d samples at %d Hz", len(back.Samples), back.SampleRate)
	}
	for i := range back.Samples {
		if math.Abs(float64(back.Samples[i]-a.Samples[i])) > 1.0/16384 {
			t.Fatalf("sample %d: %f != %f", i, back.Samples[i], a.Samples[i])
		}
	}
	if l := Level(back.Samples); math.Abs(l-(20*math.Log10(0.25/math.Sqrt2))) > 0.1 {
		t.Fatalf("level %.2f dB", l)
	}
}
