package audit

import (
	"context"
	"sync"
)

// orderedMap runs work on up to n goroutines over what produce emits and
// hands the results to sink in emission order, from a single goroutine.
// It is how verification keeps several cores busy (decoding, hashing)
// while the checks themselves stay sequential. The first error stops
// everything and is returned.
func orderedMap[In, Out any](parent context.Context, n int, produce func(emit func(In) error) error,
	work func(In) (Out, error), sink func(Out) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	type result struct {
		out Out
		err error
	}
	type job struct {
		in  In
		res chan result
	}
	jobs := make(chan job, n)
	order := make(chan chan result, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				out, err := work(j.in)
				j.res <- result{out, err}
			}
		}()
	}
	prodErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		prodErr <- produce(func(in In) error {
			res := make(chan result, 1)
			select {
			case order <- res:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- job{in, res}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var sinkErr error
	for res := range order {
		var r result
		select {
		case r = <-res:
		case <-ctx.Done():
		}
		if sinkErr != nil || ctx.Err() != nil {
			continue // drain so the producer can finish
		}
		if r.err != nil {
			sinkErr = r.err
		} else {
			sinkErr = sink(r.out)
		}
		if sinkErr != nil {
			cancel()
		}
	}
	wg.Wait()
	perr := <-prodErr
	switch {
	case sinkErr != nil:
		return sinkErr
	case perr != nil:
		return perr
	}
	return parent.Err()
}
