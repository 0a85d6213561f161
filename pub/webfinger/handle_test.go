package webfinger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub/webfinger"
)

func TestParseHandle(t *testing.T) {
	tests := []struct {
		in   string
		want webfinger.Handle
	}{
		{"alice@social.example", webfinger.Handle{User: "alice", Host: "social.example"}},
		{"@alice@social.example", webfinger.Handle{User: "alice", Host: "social.example"}},
		{"acct:alice@social.example", webfinger.Handle{User: "alice", Host: "social.example"}},
		{"ACCT:Alice@Social.Example", webfinger.Handle{User: "Alice", Host: "social.example"}},
		{"alice@social.example.", webfinger.Handle{User: "alice", Host: "social.example"}},
		{"a.b-c_d~e@social.example", webfinger.Handle{User: "a.b-c_d~e", Host: "social.example"}},
		{"alice@localhost:8080", webfinger.Handle{User: "alice", Host: "localhost:8080"}},
		{"alice@127.0.0.1:0080", webfinger.Handle{User: "alice", Host: "127.0.0.1:80"}},
		{"alice@[::1]:8080", webfinger.Handle{User: "alice", Host: "[::1]:8080"}},
		{"alice@[2001:DB8::1]", webfinger.Handle{User: "alice", Host: "[2001:db8::1]"}},
		{"alice@bücher.example", webfinger.Handle{User: "alice", Host: "xn--bcher-kva.example"}},
		{"alice@BÜCHER.example", webfinger.Handle{User: "alice", Host: "xn--bcher-kva.example"}},
		{"alice@ｓｏｃｉａｌ.example", webfinger.Handle{User: "alice", Host: "social.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := webfinger.ParseHandle(tt.in)
			if err != nil {
				t.Fatalf("ParseHandle(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseHandle(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseHandleRejects(t *testing.T) {
	tests := []string{
		"",
		"alice",
		"@alice",
		"acct:",
		"acct:alice",
		"@social.example",
		"acct:@social.example",
		"alice@",
		"user@evil.example@good.example",
		"@@alice@social.example",
		"acct:@alice@social.example",
		"acct:alice@social.example/path",
		"acct:alice@social.example?x=1",
		"acct:alice@social.example#frag",
		"acct:alice@social.example\\evil",
		"alice @social.example",
		" alice@social.example",
		"alice@social.example ",
		"alice@social .example",
		"al\tice@social.example",
		"alice@social.example\n",
		"al%69ce@social.example",
		"alice@social%2eexample",
		"al:ice@social.example",
		"al/ice@social.example",
		"alice+tag@social.example",
		"ålice@social.example",
		strings.Repeat("a", 129) + "@social.example",
		"alice@-social.example",
		"alice@social-.example",
		"alice@social..example",
		"alice@.social.example",
		"alice@social.example..",
		"alice@so_cial.example",
		"alice@" + strings.Repeat("a", 64) + ".example",
		"alice@" + strings.Repeat("abcdefghi.", 26) + "example",
		"alice@social.example:",
		"alice@social.example:0",
		"alice@social.example:65536",
		"alice@social.example:123456",
		"alice@social.example:+80",
		"alice@social.example:8080:80",
		"alice@::1",
		"alice@[::1",
		"alice@[::1]x",
		"alice@[fe80::1%25eth0]",
		"alice@[127.0.0.1]",
		"alice@127.1",
		"alice@1.2.3.256",
		"alice@0x7f.0.0.1",
		"alice@xn--a.example",
		"https://social.example/users/alice",
	}
	for _, in := range tests {
		t.Run(in, func(t *testing.T) {
			h, err := webfinger.ParseHandle(in)
			if err == nil {
				t.Fatalf("ParseHandle(%q) = %#v, want error", in, h)
			}
			if !errors.Is(err, webfinger.ErrInvalidResource) {
				t.Errorf("error %v does not wrap ErrInvalidResource", err)
			}
		})
	}
}

func TestNormalizeHost(t *testing.T) {
	tests := map[string]string{
		"Social.Example":        "social.example",
		"social.example.":       "social.example",
		"SOCIAL.example:443":    "social.example:443",
		"localhost:08080":       "localhost:8080",
		"127.0.0.1":             "127.0.0.1",
		"[0:0:0:0:0:0:0:1]":     "[::1]",
		"[::FFFF:127.0.0.1]":    "[::ffff:127.0.0.1]",
		"Bücher.Example":        "xn--bcher-kva.example",
		"xn--bcher-kva.EXAMPLE": "xn--bcher-kva.example",
		"mastodon.social":       "mastodon.social",
	}
	for in, want := range tests {
		got, err := webfinger.NormalizeHost(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// CVE-2023-42451: a path inside the host must not pass for the host.
	if got, err := webfinger.NormalizeHost("mastodon.so/cial"); err == nil {
		t.Errorf("NormalizeHost(mastodon.so/cial) = %q, want error", got)
	}
}

func TestHandleForms(t *testing.T) {
	h := webfinger.Handle{User: "Alice", Host: "social.example"}
	if h.String() != "Alice@social.example" || h.URI() != "acct:Alice@social.example" {
		t.Errorf("String/URI = %q, %q", h.String(), h.URI())
	}
	if !h.Equal(webfinger.Handle{User: "alice", Host: "social.example"}) {
		t.Error("user names must compare without case")
	}
	if h.Equal(webfinger.Handle{User: "alice", Host: "social.example:443"}) {
		t.Error("hosts with different ports must differ")
	}
}

// FuzzParseResource checks that parsing never panics and that every
// accepted handle has one canonical form: its String and URI parse back to
// the same handle, and normalizing its host changes nothing.
func FuzzParseResource(f *testing.F) {
	for _, s := range []string{
		"alice@social.example", "@alice@social.example", "acct:alice@social.example",
		"acct:Alice@Bücher.Example.:0443", "alice@[::1]:8080", "alice@127.0.0.1",
		"user@evil.example@good.example", "acct:user@host/path", "a@b c", "a@xn--bcher-kva.example",
		"a@ＡＢＣ.example", "a@\u200d.example", "a@1.2.3.4.5", "a@[::ffff:1.2.3.4]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := webfinger.ParseHandle(s)
		if err != nil {
			if !errors.Is(err, webfinger.ErrInvalidResource) {
				t.Fatalf("ParseHandle(%q) error %v does not wrap ErrInvalidResource", s, err)
			}
			return
		}
		for _, form := range []string{h.String(), h.URI(), "@" + h.String()} {
			again, err := webfinger.ParseHandle(form)
			if err != nil {
				t.Fatalf("ParseHandle(%q) = %#v, but its form %q fails: %v", s, h, form, err)
			}
			if again != h {
				t.Fatalf("ParseHandle(%q) = %#v, but %q parses to %#v", s, h, form, again)
			}
		}
		if n, err := webfinger.NormalizeHost(h.Host); err != nil || n != h.Host {
			t.Fatalf("host %q is not canonical: %q, %v", h.Host, n, err)
		}
		if strings.ContainsAny(h.String(), " /?#%\\\t\r\n") || strings.Count(h.String(), "@") != 1 {
			t.Fatalf("ParseHandle(%q) let through %q", s, h.String())
		}
	})
}
