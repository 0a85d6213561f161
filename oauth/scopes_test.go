package oauth_test

import (
	"testing"

	"github.com/commonroom/commonroom/oauth"
)

func TestScopesHas(t *testing.T) {
	for _, tc := range []struct {
		granted, required string
		want              bool
	}{
		{"read", "read", true},
		{"read", "read:statuses", true},
		{"read", "read:accounts", true},
		{"read:statuses", "read", false},
		{"read:statuses", "read:accounts", false},
		{"read", "write:statuses", false},
		{"write", "write:media", true},
		{"write:media", "write", false},
		{"follow", "read:follows", true},
		{"follow", "write:blocks", true},
		{"follow", "read:mutes", true},
		{"follow", "read:statuses", false},
		{"follow", "write", false},
		{"read", "profile", true},
		{"read:accounts", "profile", true},
		{"profile", "read:accounts", false},
		{"profile", "profile", true},
		{"admin:read", "admin:read:accounts", true},
		{"admin:read", "admin:write:accounts", false},
		{"admin:read:reports", "admin:read", false},
		{"read", "admin:read", false},
		{"read", "admin:read:accounts", false},
		{"push", "push", true},
		{"push", "read", false},
		{"read write follow push", "write:follows", true},
	} {
		t.Run(tc.granted+"⊢"+tc.required, func(t *testing.T) {
			s, err := oauth.ParseScopes(tc.granted)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Has(tc.required); got != tc.want {
				t.Fatalf("Has = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "read", true},
		{"  ", "read", true},
		{"read write", "read write", true},
		{"read+write", "read write", true},
		{"read read write", "read write", true},
		{"read:statuses admin:write:reports", "read:statuses admin:write:reports", true},
		{"read everything", "", false},
		{"admin", "", false},
		{"crypto", "", false},
		{"READ", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			s, err := oauth.ParseScopes(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if tc.ok && s.String() != tc.want {
				t.Fatalf("got %q, want %q", s, tc.want)
			}
		})
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"http://127.0.0.1:8765/cb", true},
		{"com.example.app:/oauth2redirect", true},
		{"urn:ietf:wg:oauth:2.0:oob", true},
		{"https://app.example/cb?x=1", true},
		{"javascript:alert(1)", false},
		{"jAvAsCrIpT:alert(1)", false},
		{"data:text/html,x", false},
		{"vbscript:x", false},
		{"/relative", false},
		{"https://app.example/cb#f", false},
		{"https://app.example/cb#", false},
		{"https:/nohost", false},
		{"", false},
		{"https://app.example/\ncb", false},
	} {
		if err := oauth.CheckRedirectURI(tc.uri); (err == nil) != tc.ok {
			t.Errorf("CheckRedirectURI(%q) = %v", tc.uri, err)
		}
	}
}
