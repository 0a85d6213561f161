package delivery_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
)

// TestObserverAndStats checks what the observer hook and Stats report for a
// retried, a rejected and a delivered attempt.
func TestObserverAndStats(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		clk := newClock(t0)
		cfg := testConfig(clk)
		var mu sync.Mutex
		var events []delivery.Event
		cfg.Observer = delivery.ObserverFunc(func(e delivery.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		})
		h := newHarness(t, d, cfg, clk, 0)
		statuses := []int{http.StatusBadGateway, http.StatusOK}
		flaky := newReceiver(t, func(n int) reply { return reply{status: statuses[min(n, 2)-1]} })
		gone := newReceiver(t, always(http.StatusGone))
		h.enqueue(t, mustJob(t, flaky.inbox(), 1))
		h.enqueue(t, mustJob(t, gone.inbox(), 2))

		wantStep(t, h, 2)
		s := h.stats(t)
		if s.Queue.Pending != 1 || s.Queue.FailingHosts != 1 || s.Queue.Due != 0 {
			t.Fatalf("queue after the first step: %+v", s.Queue)
		}
		if s.HostFailures[mustHost(t, flaky.inbox())] != 1 || len(s.HostFailures) != 1 {
			t.Fatalf("host failures %v", s.HostFailures)
		}
		clk.Advance(time.Hour)
		s = h.stats(t)
		if s.Queue.Due != 1 || !s.Queue.OldestDueAt.Equal(t0) || s.Queue.OldestDueAge(clk.Now()) != time.Hour {
			t.Fatalf("queue an hour later: %+v", s.Queue)
		}
		wantStep(t, h, 1)

		mu.Lock()
		defer mu.Unlock()
		byActivity := map[string][]delivery.Event{}
		for _, e := range events {
			byActivity[e.ActivityID] = append(byActivity[e.ActivityID], e)
		}
		tests := []struct {
			activity string
			attempt  int
			outcome  delivery.Outcome
			status   int
			err      bool
			age      time.Duration
		}{
			{activityID(1), 1, delivery.Retried, 502, true, 0},
			{activityID(1), 2, delivery.Delivered, 200, false, time.Hour},
			{activityID(2), 1, delivery.Rejected, 410, true, 0},
		}
		for _, tt := range tests {
			evs := byActivity[tt.activity]
			if len(evs) < tt.attempt {
				t.Errorf("%s: %d events, want attempt %d", tt.activity, len(evs), tt.attempt)
				continue
			}
			e := evs[tt.attempt-1]
			if e.Attempt != tt.attempt || e.Outcome != tt.outcome || e.StatusCode != tt.status || (e.Err != nil) != tt.err || e.Age != tt.age || e.Host == "" || e.InboxURL == "" {
				t.Errorf("%s attempt %d: %+v", tt.activity, tt.attempt, e)
			}
		}
		s = h.stats(t)
		if len(s.HostFailures) != 0 || s.Queue.FailingHosts != 0 || s.Queue.Pending != 0 {
			t.Fatalf("after success: %+v", s)
		}
	})
}
