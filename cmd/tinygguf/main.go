// Command tinygguf writes the tiny test model (a llama-architecture GGUF with
// seeded random weights) and its Ollama Modelfile into a directory:
//
//	tinygguf -dir DIR [-seed N]
//	ollama create tiny -f DIR/Modelfile
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/soteai/gateway/models/ollama/tinygguf"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tinygguf:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	c := tinygguf.Default()
	fs := flag.NewFlagSet("tinygguf", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "directory to write "+tinygguf.ModelFile+" and "+tinygguf.Modelfile+" into (required)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the random weights")
	fs.IntVar(&c.ContextLength, "ctx", c.ContextLength, "context length in tokens")
	fs.IntVar(&c.NumPredict, "num-predict", c.NumPredict, "default reply length in tokens")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "usage: tinygguf -dir DIR [flags]")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return err
	}
	if *dir == "" || fs.NArg() != 0 {
		return fmt.Errorf("usage: tinygguf -dir DIR [-seed N] [-ctx TOKENS] [-num-predict TOKENS]")
	}
	mf, err := tinygguf.WriteDir(*dir, c)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, mf)
	return nil
}
