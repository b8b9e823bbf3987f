package evals

import (
	"math"
	"testing"
)

func TestBootstrap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
	}{
		{"constant", []float64{1, 1, 1, 1}},
		{"spread", []float64{0, 0.2, 0.4, 0.9, 1, 0.3, 0.7, 0.1}},
		{"one", []float64{0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iv := Bootstrap(tc.values, BootstrapOptions{Seed: 7})
			if iv.Mean != mean(tc.values) {
				t.Errorf("mean %v, want %v", iv.Mean, mean(tc.values))
			}
			if !(iv.Low <= iv.Mid && iv.Mid <= iv.High) {
				t.Errorf("interval out of order: %+v", iv)
			}
			if math.Abs(iv.Mid-iv.Mean) > (iv.High-iv.Low)/4+1e-12 {
				t.Errorf("mid %v far from mean %v (%+v)", iv.Mid, iv.Mean, iv)
			}
			if again := Bootstrap(tc.values, BootstrapOptions{Seed: 7}); again != iv {
				t.Errorf("not deterministic: %+v then %+v", iv, again)
			}
		})
	}
	// A spread sample must give a real interval (width > 0), a constant
	// sample none.
	if iv := Bootstrap([]float64{0, 1, 0, 1, 1, 0}, BootstrapOptions{}); iv.High-iv.Low < 0.2 {
		t.Errorf("interval too narrow for a 0/1 sample: %+v", iv)
	}
	if iv := Bootstrap([]float64{0.3, 0.3}, BootstrapOptions{}); iv.Low != 0.3 || iv.High != 0.3 {
		t.Errorf("constant sample: %+v", iv)
	}
}

func TestPairedBootstrap(t *testing.T) {
	base := []float64{0.9, 0.8, 0.85, 0.7, 0.95, 0.9, 0.6, 0.75, 0.8, 0.88, 0.92, 0.81}
	worse := make([]float64, len(base))
	same := make([]float64, len(base))
	for i, v := range base {
		worse[i] = v - 0.2 - 0.01*float64(i%3)
		same[i] = v + 0.01*float64(i%2*2-1) // ±0.01 alternating: no real change
	}
	r, err := PairedBootstrap(base, worse, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.P > 0.01 || r.Delta.High >= 0 {
		t.Errorf("a clear drop was not significant: %+v", r)
	}
	r, err = PairedBootstrap(base, same, BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.P < 0.2 || r.Delta.Low > 0 || r.Delta.High < 0 {
		t.Errorf("no change was called significant: %+v", r)
	}
	if _, err := PairedBootstrap(base, base[:3], BootstrapOptions{}); err == nil {
		t.Error("unpaired input accepted")
	}
	if _, err := PairedBootstrap(nil, nil, BootstrapOptions{}); err == nil {
		t.Error("empty input accepted")
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		q    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4}, 0.95, 3.85},
		{[]float64{5}, 0.1, 5},
		{nil, 0.5, 0},
	} {
		if got := Percentile(tc.v, tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.v, tc.q, got, tc.want)
		}
	}
}
