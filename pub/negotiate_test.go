package pub_test

import (
	"testing"

	"github.com/commonroom/commonroom/pub"
)

func TestWantsActivityStreams(t *testing.T) {
	tests := []struct {
		name   string
		accept string
		want   bool
	}{
		{"empty", "", true},
		{"blank", "  ", true},
		{"activity+json", "application/activity+json", true},
		{"ld+json with profile", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{"ld+json without profile", "application/ld+json", false},
		{"plain json", "application/json", false},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"mastodon fetcher", `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{"html preferred by q", "application/activity+json;q=0.5, text/html", false},
		{"as2 preferred by q", "application/activity+json, text/html;q=0.5", true},
		{"tie goes to as2", "text/html, application/activity+json", true},
		{"as2 refused with q=0", "application/activity+json;q=0", false},
		{"only wildcard", "*/*", false},
		{"malformed part skipped", "%%%, application/activity+json", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pub.WantsActivityStreams(tt.accept); got != tt.want {
				t.Errorf("WantsActivityStreams(%q) = %v, want %v", tt.accept, got, tt.want)
			}
		})
	}
}
