package interpret

import (
	"context"
	"sync"
	"time"

	"github.com/soteai/gateway/assist"
)

// outbox holds the events waiting for the client. Events that must not be
// lost (finals, translations, speech, corrections, errors, the transcript)
// wait in a bounded queue: when it is full the pipeline waits up to
// slowAfter for the client to read, then the session fails as busy. Partial
// captions take one slot per speaker: a newer one replaces an unread one
// (counted as dropped).
type outbox struct {
	must      chan Event
	slowAfter time.Duration

	mu      sync.Mutex
	partial map[string]Event // speaker → latest unread partial
	order   []string         // speakers with an unread partial, oldest first
	dropped int
	wake    chan struct{} // signalled when a partial is put
}

func newOutbox(size int, slowAfter time.Duration) *outbox {
	return &outbox{must: make(chan Event, size), slowAfter: slowAfter, partial: map[string]Event{}, wake: make(chan struct{}, 1)}
}

// put queues an event that must reach the client. Errors: busy when the
// client has not made room within slowAfter; canceled when ctx ends.
func (o *outbox) put(ctx context.Context, ev Event) error {
	select {
	case o.must <- ev:
		return nil
	default:
	}
	t := time.NewTimer(o.slowAfter)
	defer t.Stop()
	select {
	case o.must <- ev:
		return nil
	case <-t.C:
		return assist.E(assist.KindBusy, "interpret.send", "the client does not read the session's events fast enough")
	case <-ctx.Done():
		return assist.E(assist.KindCanceled, "interpret.send", ctx.Err())
	}
}

// putPartial offers a partial caption; it never blocks.
func (o *outbox) putPartial(ev Event) {
	o.mu.Lock()
	if _, ok := o.partial[ev.Speaker]; ok {
		o.dropped++
	} else {
		o.order = append(o.order, ev.Speaker)
	}
	o.partial[ev.Speaker] = ev
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// dropPartial forgets an unread partial of speaker (its final is coming).
func (o *outbox) dropPartial(speaker string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.partial[speaker]; ok {
		delete(o.partial, speaker)
		for i, s := range o.order {
			if s == speaker {
				o.order = append(o.order[:i], o.order[i+1:]...)
				break
			}
		}
	}
}

func (o *outbox) takePartial() (Event, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.order) == 0 {
		return Event{}, false
	}
	sp := o.order[0]
	o.order = o.order[1:]
	ev := o.partial[sp]
	delete(o.partial, sp)
	ev.Dropped, o.dropped = o.dropped, 0
	return ev, true
}

// next returns the next event for the client, events that must not be
// lost first. done is closed when no more events will be put; next then
// drains what is queued and returns ok=false.
func (o *outbox) next(ctx context.Context, done <-chan struct{}) (Event, bool) {
	for {
		select {
		case ev := <-o.must:
			return ev, true
		default:
		}
		if ev, ok := o.takePartial(); ok {
			return ev, true
		}
		select {
		case ev := <-o.must:
			return ev, true
		case <-o.wake:
		case <-done:
			select {
			case ev := <-o.must:
				return ev, true
			default:
				return Event{}, false
			}
		case <-ctx.Done():
			return Event{}, false
		}
	}
}
