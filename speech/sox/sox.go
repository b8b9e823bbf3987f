package sox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"time"

	"github.com/soteai/gateway/assist"
	"github.com/soteai/gateway/speech"
)

// Converter runs sox. Zero fields take the defaults shown.
type Converter struct {
	Binary  string        // sox
	Timeout time.Duration // one conversion; 30s
}

// Sniff names the container of data from its first bytes: "wav",
// "flac", "ogg", or "" when it is none of them.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return "wav"
	case bytes.HasPrefix(data, []byte("fLaC")):
		return "flac"
	case bytes.HasPrefix(data, []byte("OggS")):
		return "ogg"
	}
	return ""
}

// ToWAV decodes FLAC or Ogg Vorbis into a 16 kHz mono 16-bit WAV of at
// most maxDuration. Errors: invalid for audio sox cannot read, too_large
// past maxDuration, timeout, unavailable without sox.
func (c Converter) ToWAV(ctx context.Context, data []byte, format string, maxDuration time.Duration) ([]byte, error) {
	const op = "sox.ToWAV"
	if format != "flac" && format != "ogg" {
		return nil, assist.Errorf(assist.KindInvalid, "cannot decode %q audio; send WAV, FLAC or Ogg Vorbis", format)
	}
	limit := int64(maxDuration.Seconds()*speech.EngineSampleRate*2) + 1024
	out, err := c.run(ctx, op, data, limit, "-t", format, "-", "-t", "wav", "-r", strconv.Itoa(speech.EngineSampleRate), "-c", "1", "-b", "16", "-e", "signed-integer", "-")
	if errors.Is(err, errTooLarge) {
		return nil, assist.Errorf(assist.KindTooLarge, "the audio is longer than the limit of %s", maxDuration)
	}
	if err != nil && assist.KindOf(err) == assist.KindInternal {
		return nil, assist.Errorf(assist.KindInvalid, "the %s audio could not be decoded", format)
	}
	return out, err
}

// FromWAV encodes a WAV file as FLAC.
func (c Converter) FromWAV(ctx context.Context, wav []byte, format string) ([]byte, error) {
	const op = "sox.FromWAV"
	if format != "flac" {
		return nil, assist.Errorf(assist.KindInvalid, "cannot encode %q audio", format)
	}
	out, err := c.run(ctx, op, wav, int64(len(wav))+1024, "-t", "wav", "-", "-t", "flac", "-")
	if err != nil && assist.KindOf(err) == assist.KindInternal {
		return nil, assist.E(assist.KindInternal, op, "sox could not encode FLAC", err)
	}
	return out, err
}

var errTooLarge = errors.New("sox: output over the limit")

// run pipes data through sox, keeping at most limit bytes of its output.
func (c Converter) run(ctx context.Context, op string, data []byte, limit int64, args ...string) ([]byte, error) {
	bin := c.Binary
	if bin == "" {
		bin = "sox"
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, assist.E(assist.KindUnavailable, op, "sox is not installed (Debian package sox)", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-q", "-V1"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, assist.E(assist.KindInternal, op, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, assist.E(assist.KindUnavailable, op, "sox does not run", err)
	}
	out, rerr := io.ReadAll(io.LimitReader(stdout, limit+1))
	if int64(len(out)) > limit {
		cancel()
		_ = cmd.Wait()
		return nil, errTooLarge
	}
	werr := cmd.Wait()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, assist.E(assist.KindTimeout, op, "sox ran past its deadline", ctx.Err())
	case ctx.Err() != nil:
		return nil, assist.ContextError(op, ctx)
	case rerr != nil:
		return nil, assist.E(assist.KindInternal, op, rerr)
	case werr != nil:
		return nil, assist.E(assist.KindInternal, op, werr)
	}
	return out, nil
}
