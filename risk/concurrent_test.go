package risk

import (
	"encoding/json"
	"sync"
	"testing"
)

// TestAssessConcurrent shares one *KB between goroutines (run with -race).
func TestAssessConcurrent(t *testing.T) {
	kb := testKB(t)
	want, _ := Assess(kb, benchInput())
	wantJSON, _ := json.Marshal(want)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := Assess(kb, benchInput())
				b, _ := json.Marshal(got)
				if err != nil || string(b) != string(wantJSON) {
					t.Error("concurrent assessment differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}
