package retrieval_test

import (
	"context"
	"fmt"

	"github.com/soteai/gateway/retrieval"
)

func ExampleChunkDocument() {
	src := "# Verenpaine\n\n## Mittaaminen\n\nVerenpaine mitataan istuen. Kotimittaus varmistaa diagnoosin.\n\n## Hoito\n\nTavoite on alle 140/90 mmHg."
	p, err := retrieval.Parse(context.Background(), retrieval.FormatMarkdown, []byte(src), retrieval.ParseOptions{})
	if err != nil {
		panic(err)
	}
	for _, c := range retrieval.ChunkDocument(p, retrieval.ChunkOptions{}) {
		// The offsets cite the passage in p.Text (in characters).
		fmt.Printf("%v [%d,%d) %s\n", c.HeadingPath, c.Start, c.End, c.Text)
	}
	// Output:
	// [Verenpaine Mittaaminen] [30,91) Verenpaine mitataan istuen. Kotimittaus varmistaa diagnoosin.
	// [Verenpaine Hoito] [103,131) Tavoite on alle 140/90 mmHg.
}

func ExampleFuseRRF() {
	vector := []int64{11, 12, 13}   // chunk ids by vector distance
	fulltext := []int64{13, 14, 11} // chunk ids by ts_rank
	for _, f := range retrieval.FuseRRF(retrieval.DefaultRRFK, vector, fulltext) {
		fmt.Printf("%d %.4f %v\n", f.ID, f.Score, f.Ranks)
	}
	// Output:
	// 11 0.0323 [1 3]
	// 13 0.0323 [3 1]
	// 12 0.0161 [2 0]
	// 14 0.0161 [0 2]
}
