package evals

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Interval is a point estimate with a bootstrap confidence interval.
type Interval struct {
	// Mean is the arithmetic mean of the observed values.
	Mean float64 `json:"mean"`
	// Low, Mid and High are the percentiles (1−Confidence)/2, 50 and
	// (1+Confidence)/2 of the resampled means.
	Low  float64 `json:"low"`
	Mid  float64 `json:"mid"`
	High float64 `json:"high"`
}

// BootstrapOptions set a bootstrap: Samples resamples (default 1000),
// Confidence level (default 0.95) and the seed of its random source, so
// the same values always give the same interval.
type BootstrapOptions struct {
	Samples    int
	Confidence float64
	Seed       uint64
}

func (o BootstrapOptions) withDefaults() BootstrapOptions {
	if o.Samples <= 0 {
		o.Samples = 1000
	}
	if o.Confidence <= 0 || o.Confidence >= 1 {
		o.Confidence = 0.95
	}
	return o
}

// Bootstrap estimates a confidence interval of the mean of values by
// resampling: Samples times, draw len(values) values with replacement and
// take their mean; Low, Mid and High are percentiles of those means with
// linear interpolation between order statistics (numpy's default, as
// rouge_score's BootstrapAggregator reports them). An empty input gives
// the zero Interval.
func Bootstrap(values []float64, o BootstrapOptions) Interval {
	if len(values) == 0 {
		return Interval{}
	}
	o = o.withDefaults()
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	means := make([]float64, o.Samples)
	for s := range means {
		var sum float64
		for range values {
			sum += values[rng.IntN(len(values))]
		}
		means[s] = sum / float64(len(values))
	}
	slices.Sort(means)
	alpha := (1 - o.Confidence) / 2
	return Interval{
		Mean: mean(values),
		Low:  percentile(means, alpha),
		Mid:  percentile(means, 0.5),
		High: percentile(means, 1-alpha),
	}
}

// PairedResult compares two systems scored on the same cases.
type PairedResult struct {
	// Delta is the mean of b[i]−a[i] with its bootstrap interval.
	Delta Interval `json:"delta"`
	// P is the two-sided p-value of "no difference": the share of
	// resampled mean differences, shifted to mean zero, at least as far
	// from zero as the observed one ((1+count)/(1+Samples), so never 0).
	P float64 `json:"p"`
	// N is the number of pairs.
	N int `json:"n"`
}

// PairedBootstrap is the paired bootstrap test (Koehn 2004; Efron and
// Tibshirani's shifted-null form): a[i] and b[i] are the scores of two
// systems on case i. The same resampled case indices are used for both
// systems, so per-case difficulty cancels out.
func PairedBootstrap(a, b []float64, o BootstrapOptions) (PairedResult, error) {
	if len(a) != len(b) {
		return PairedResult{}, fmt.Errorf("evals.PairedBootstrap: %d and %d scores (want pairs)", len(a), len(b))
	}
	if len(a) == 0 {
		return PairedResult{}, fmt.Errorf("evals.PairedBootstrap: no pairs")
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = b[i] - a[i]
	}
	o = o.withDefaults()
	iv := Bootstrap(d, o)
	// The same resamples again (same seed), now counting how often the
	// centred mean is at least as extreme as the observed one.
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	obs := math.Abs(iv.Mean)
	extreme := 0
	for range o.Samples {
		var sum float64
		for range d {
			sum += d[rng.IntN(len(d))]
		}
		// A tiny tolerance so that float rounding of equal sums does
		// not decide the count.
		if math.Abs(sum/float64(len(d))-iv.Mean) >= obs-1e-12 {
			extreme++
		}
	}
	return PairedResult{Delta: iv, P: float64(1+extreme) / float64(1+o.Samples), N: len(d)}, nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// percentile of sorted values at q in [0,1], interpolating linearly
// between the two nearest order statistics.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of values with linear
// interpolation (numpy's default); values need not be sorted.
func Percentile(values []float64, q float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	return percentile(s, q)
}
