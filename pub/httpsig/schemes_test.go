package httpsig_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

func TestHostSchemes(t *testing.T) {
	type step struct {
		op     string // "advertised", "accepted", "rejected", "wait"
		scheme httpsig.Scheme
		wait   time.Duration
		want   httpsig.Scheme // preferred scheme after the step
	}
	C, R := httpsig.Cavage, httpsig.RFC9421
	tests := []struct {
		name  string
		steps []step
	}{
		{"unknown host: draft-cavage", []step{{op: "wait", want: C}}},
		{"advertised: RFC 9421 first", []step{{op: "advertised", want: R}}},
		{"accepted RFC 9421", []step{{op: "accepted", scheme: R, want: R}}},
		{"accepted draft-cavage changes nothing", []step{{op: "accepted", scheme: C, want: C}}},
		{"advertised then refused: back to draft-cavage", []step{
			{op: "advertised", want: R}, {op: "rejected", scheme: R, want: C},
			{op: "wait", wait: 23 * time.Hour, want: C},
			{op: "wait", wait: 2 * time.Hour, want: R}, // cool-off over: try again
		}},
		{"accepted then refused then accepted", []step{
			{op: "accepted", scheme: R, want: R}, {op: "rejected", scheme: R, want: C}, {op: "accepted", scheme: R, want: R},
		}},
		{"refuses draft-cavage: try RFC 9421", []step{
			{op: "rejected", scheme: C, want: R}, {op: "wait", wait: 25 * time.Hour, want: C},
		}},
		{"refuses both: draft-cavage", []step{
			{op: "rejected", scheme: C, want: R}, {op: "rejected", scheme: R, want: C},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			h := httpsig.NewHostSchemes(func() time.Time { return now }, 0)
			for i, s := range tt.steps {
				switch s.op {
				case "advertised":
					h.Advertised("Remote.Example.")
				case "accepted":
					h.Accepted("remote.example", s.scheme)
				case "rejected":
					h.Rejected("REMOTE.example", s.scheme)
				case "wait":
					now = now.Add(s.wait)
				}
				if got := h.Preferred("remote.example"); got != s.want {
					t.Fatalf("step %d (%s %v): preferred %v, want %v", i, s.op, s.scheme, got, s.want)
				}
				order := h.Order("remote.example")
				if order[0] != s.want || order[1] == order[0] {
					t.Fatalf("step %d: order %v", i, order)
				}
				if h.Preferred("other.example") != C {
					t.Fatalf("step %d: another host was affected", i)
				}
			}
		})
	}
}

// TestHostSchemesConcurrent is for the race detector: many deliveries
// record outcomes at once.
func TestHostSchemesConcurrent(t *testing.T) {
	h := httpsig.NewHostSchemes(nil, time.Hour)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				host := fmt.Sprintf("h%d.example", j%10)
				switch (i + j) % 4 {
				case 0:
					h.Accepted(host, httpsig.RFC9421)
				case 1:
					h.Rejected(host, httpsig.RFC9421)
				case 2:
					h.Advertised(host)
				default:
					_ = h.Order(host)
				}
			}
		})
	}
	wg.Wait()
}

func TestSchemeString(t *testing.T) {
	for s, want := range map[httpsig.Scheme]string{httpsig.Cavage: "draft-cavage-12", httpsig.RFC9421: "rfc9421", 0: "unknown(0)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", s, s.String(), want)
		}
	}
}

func TestAdvertisesRFC9421(t *testing.T) {
	tests := []struct {
		value string // "" means no header
		want  bool
	}{
		{"", false},
		{`sig1=("@method" "@target-uri" "content-digest");keyid="https://a.example/k"`, true},
		{`sig1=();alg="ed25519"`, true},
		{`not a dictionary (`, false},
		{` `, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Accept-Signature", tt.value)
		}
		if got := httpsig.AdvertisesRFC9421(h); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.value, got, tt.want)
		}
	}
}
