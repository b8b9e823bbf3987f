package speech

import (
	"time"

	"github.com/soteai/gateway/assist"
)

// VADConfig tunes the voice-activity detector and segmenter. Zero fields
// take the defaults shown.
type VADConfig struct {
	SampleRate int           // of the samples written; 16000
	Frame      time.Duration // analysis frame; 20ms
	// ThresholdDB is how far above the tracked noise floor a frame's level
	// must be to count as speech; 12 dB.
	ThresholdDB float64
	// MinLevelDB is the level below which nothing is speech, however quiet
	// the room; -50 dBFS.
	MinLevelDB float64
	// Onset is how much consecutive speech starts an utterance; 60ms.
	Onset time.Duration
	// Hangover is how much silence ends one; 500ms.
	Hangover time.Duration
	// PreRoll is audio kept before the detected start, so soft onsets
	// (a leading "s" or "h") are not cut; 200ms.
	PreRoll time.Duration
	// MinSpeech drops utterances with less speech than this (clicks,
	// coughs); 250ms.
	MinSpeech time.Duration
	// MaxSegment cuts an utterance that runs longer, so a monologue is
	// still transcribed and translated piece by piece; 15s.
	MaxSegment time.Duration
}

func (c VADConfig) withDefaults() VADConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.SampleRate <= 0 {
		c.SampleRate = EngineSampleRate
	}
	def(&c.Frame, 20*time.Millisecond)
	def(&c.Onset, 60*time.Millisecond)
	def(&c.Hangover, 500*time.Millisecond)
	def(&c.PreRoll, 200*time.Millisecond)
	def(&c.MinSpeech, 250*time.Millisecond)
	def(&c.MaxSegment, 15*time.Second)
	if c.ThresholdDB <= 0 {
		c.ThresholdDB = 12
	}
	if c.MinLevelDB == 0 {
		c.MinLevelDB = -50
	}
	return c
}

// Utterance is one stretch of speech found by the segmenter, with times
// from the start of the stream (pre-roll and trailing hangover included).
type Utterance struct {
	Start, End time.Duration
	Audio      Audio
	// Cut reports that MaxSegment ended it, not a pause.
	Cut bool
}

// Segmenter is a streaming voice-activity detector: Write the stream's
// samples as they arrive and it returns each utterance once a pause (or
// MaxSegment) ends it. A frame is speech when its level is ThresholdDB
// above an adaptive noise floor (and above MinLevelDB), or, for soft
// fricatives, half that above the floor with a high zero-crossing rate.
// It is not safe for concurrent use.
type Segmenter struct {
	cfg                           VADConfig
	frameLen, onset, hang, preRol int // in frames / samples, see NewSegmenter
	minSpeech, maxSeg             int

	frame     []float32 // partial analysis frame
	pos       int64     // samples consumed into whole frames
	floor     float64   // noise floor, dBFS
	floorInit bool
	history   []float32 // recent audio while not in speech (pre-roll)

	inSpeech bool
	run      int       // consecutive speech frames while not in speech
	quiet    int       // consecutive non-speech frames while in speech
	speech   int       // speech frames in the current utterance
	start    int64     // sample index where the utterance starts
	cur      []float32 // the utterance so far
}

// NewSegmenter makes a segmenter; a configuration that cannot work (a
// frame over 100 ms, MaxSegment shorter than MinSpeech) is kind invalid.
func NewSegmenter(cfg VADConfig) (*Segmenter, error) {
	cfg = cfg.withDefaults()
	if cfg.Frame > 100*time.Millisecond || cfg.MaxSegment < cfg.MinSpeech || cfg.SampleRate < 1000 {
		return nil, assist.Errorf(assist.KindInvalid, "voice detection settings cannot work: frame %s, min speech %s, max segment %s", cfg.Frame, cfg.MinSpeech, cfg.MaxSegment)
	}
	s := &Segmenter{cfg: cfg}
	s.frameLen = max(1, samplesFor(cfg.Frame, cfg.SampleRate))
	frames := func(d time.Duration) int { return max(1, int((d+cfg.Frame-1)/cfg.Frame)) }
	s.onset, s.hang = frames(cfg.Onset), frames(cfg.Hangover)
	s.minSpeech = frames(cfg.MinSpeech)
	s.preRol = samplesFor(cfg.PreRoll, cfg.SampleRate)
	s.maxSeg = samplesFor(cfg.MaxSegment, cfg.SampleRate)
	return s, nil
}

// InSpeech reports whether an utterance is under way.
func (s *Segmenter) InSpeech() bool { return s.inSpeech }

// Pending returns the utterance under way so far (for live partial
// captions) and whether there is one. The audio is a copy.
func (s *Segmenter) Pending() (Utterance, bool) {
	if !s.inSpeech {
		return Utterance{}, false
	}
	return s.utterance(append([]float32(nil), s.cur...), false), true
}

// Write feeds samples and returns the utterances they completed.
func (s *Segmenter) Write(samples []float32) []Utterance {
	var done []Utterance
	for len(samples) > 0 {
		n := min(s.frameLen-len(s.frame), len(samples))
		s.frame = append(s.frame, samples[:n]...)
		samples = samples[n:]
		if len(s.frame) == s.frameLen {
			if u, ok := s.step(s.frame); ok {
				done = append(done, u)
			}
			s.frame = s.frame[:0]
		}
	}
	return done
}

// Flush ends the stream: an utterance under way is returned if it has
// enough speech, and the segmenter starts afresh.
func (s *Segmenter) Flush() []Utterance {
	var done []Utterance
	if s.inSpeech {
		s.cur = append(s.cur, s.frame...)
		if s.speech >= s.minSpeech {
			done = append(done, s.utterance(s.cur, false))
		}
	}
	*s = Segmenter{cfg: s.cfg, frameLen: s.frameLen, onset: s.onset, hang: s.hang, preRol: s.preRol, minSpeech: s.minSpeech, maxSeg: s.maxSeg}
	return done
}

func (s *Segmenter) utterance(samples []float32, cut bool) Utterance {
	rate := s.cfg.SampleRate
	return Utterance{
		Start: durationOf(s.start, rate),
		End:   durationOf(s.start+int64(len(samples)), rate),
		Audio: Audio{SampleRate: rate, Samples: samples},
		Cut:   cut,
	}
}

// isSpeech classifies one frame and updates the noise floor.
func (s *Segmenter) isSpeech(f []float32) bool {
	level := Level(f)
	if !s.floorInit {
		s.floor, s.floorInit = level, true
	}
	var crossings int
	for i := 1; i < len(f); i++ {
		if (f[i-1] < 0) != (f[i] < 0) {
			crossings++
		}
	}
	zcr := float64(crossings) / float64(len(f))
	speech := level > s.cfg.MinLevelDB && (level > s.floor+s.cfg.ThresholdDB ||
		(zcr > 0.3 && level > s.floor+s.cfg.ThresholdDB/2))
	// The floor falls fast to quieter frames and rises slowly outside
	// speech, so steady noise becomes the floor and speech does not.
	switch {
	case level < s.floor:
		s.floor += (level - s.floor) * 0.5
	case !speech && !s.inSpeech:
		s.floor += (level - s.floor) * 0.05
	case !speech:
		s.floor += (level - s.floor) * 0.01
	}
	return speech
}

func (s *Segmenter) step(f []float32) (Utterance, bool) {
	speech := s.isSpeech(f)
	frameStart := s.pos
	s.pos += int64(len(f))
	if !s.inSpeech {
		s.history = append(s.history, f...)
		if speech {
			s.run++
		} else {
			s.run = 0
		}
		if s.run >= s.onset {
			// Start at the first speech frame, less the pre-roll.
			first := frameStart - int64(s.run-1)*int64(s.frameLen)
			from := max(0, first-int64(s.preRol), s.pos-int64(len(s.history)))
			s.start = from
			s.cur = append([]float32(nil), s.history[len(s.history)-int(s.pos-from):]...)
			s.inSpeech, s.speech, s.quiet, s.run = true, s.run, 0, 0
			s.history = s.history[:0]
		} else if keep := s.preRol + s.onset*s.frameLen; len(s.history) > 2*keep {
			n := copy(s.history, s.history[len(s.history)-keep:])
			s.history = s.history[:n]
		}
		return Utterance{}, false
	}
	s.cur = append(s.cur, f...)
	if speech {
		s.speech++
		s.quiet = 0
	} else {
		s.quiet++
	}
	switch {
	case s.quiet >= s.hang:
		s.inSpeech = false
		cur := s.cur
		s.cur = nil
		if s.speech < s.minSpeech {
			return Utterance{}, false
		}
		return s.utterance(cur, false), true
	case len(s.cur) >= s.maxSeg:
		u := s.utterance(s.cur, true)
		// The speech goes on: the next utterance starts here.
		s.start, s.cur, s.speech, s.quiet = s.pos, nil, 0, 0
		return u, true
	}
	return Utterance{}, false
}
