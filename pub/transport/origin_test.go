package transport_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/commonroom/commonroom/pub/transport"
)

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    transport.Origin
		str     string
		wantErr bool
	}{
		{in: "https://evil.example/x", want: transport.Origin{"https", "evil.example", ""}, str: "https://evil.example"},
		{in: "https://EVIL.example./x", want: transport.Origin{"https", "evil.example", ""}, str: "https://evil.example"},
		{in: "HTTPS://Evil.Example:443", want: transport.Origin{"https", "evil.example", ""}, str: "https://evil.example"},
		{in: "http://a.example:80/", want: transport.Origin{"http", "a.example", ""}, str: "http://a.example"},
		{in: "http://a.example:443/", want: transport.Origin{"http", "a.example", "443"}, str: "http://a.example:443"},
		{in: "https://a.example:8443", want: transport.Origin{"https", "a.example", "8443"}, str: "https://a.example:8443"},
		{in: "https://a.example:08443", want: transport.Origin{"https", "a.example", "8443"}, str: "https://a.example:8443"},
		{in: "https://a.example:/x", want: transport.Origin{"https", "a.example", ""}, str: "https://a.example"},
		{in: "https://bücher.example/", want: transport.Origin{"https", "xn--bcher-kva.example", ""}, str: "https://xn--bcher-kva.example"},
		{in: "https://BÜCHER.example/", want: transport.Origin{"https", "xn--bcher-kva.example", ""}, str: "https://xn--bcher-kva.example"},
		{in: "https://xn--bcher-kva.example/", want: transport.Origin{"https", "xn--bcher-kva.example", ""}, str: "https://xn--bcher-kva.example"},
		{in: "https://ｅｘａｍｐｌｅ.com/", want: transport.Origin{"https", "example.com", ""}, str: "https://example.com"},
		{in: "http://127.0.0.1:8080/users/a", want: transport.Origin{"http", "127.0.0.1", "8080"}, str: "http://127.0.0.1:8080"},
		{in: "http://[::1]:8080/", want: transport.Origin{"http", "::1", "8080"}, str: "http://[::1]:8080"},
		{in: "http://[0:0::1]/", want: transport.Origin{"http", "::1", ""}, str: "http://[::1]"},
		{in: "https://good.example@evil.example/", want: transport.Origin{"https", "evil.example", ""}, str: "https://evil.example"},
		{in: "https://mastodon.so/cial", want: transport.Origin{"https", "mastodon.so", ""}, str: "https://mastodon.so"},
		{in: "mastodon.social", wantErr: true},
		{in: "ftp://a.example/", wantErr: true},
		{in: "acct:alice@a.example", wantErr: true},
		{in: "https:///x", wantErr: true},
		{in: "https://a.example../", wantErr: true},
		{in: "https://a..example/", wantErr: true},
		{in: "https://a.example:0/", wantErr: true},
		{in: "https://a.example:65536/", wantErr: true},
		{in: "https://[fe80::1%25eth0]/", wantErr: true},
		{in: "https://a_b.example/", wantErr: true},
		{in: "https://exa mple.com/", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := transport.ParseOrigin(tt.in)
			if tt.wantErr {
				if !errors.Is(err, transport.ErrInvalidURL) {
					t.Fatalf("ParseOrigin(%q) = %+v, %v; want ErrInvalidURL", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseOrigin(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.str {
				t.Errorf("String() = %q, want %q", got.String(), tt.str)
			}
			again, err := transport.ParseOrigin(got.String())
			if err != nil || again != got {
				t.Errorf("ParseOrigin(String()) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://mastodon.so/cial", "https://mastodon.social", false},
		{"https://mastodon.so/cial", "https://mastodon.so/other", true},
		{"https://EVIL.example./a", "https://evil.example/b", true},
		{"https://evil.example:443/a", "https://evil.example/b", true},
		{"http://evil.example/a", "https://evil.example/a", false},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a", false},
		{"https://a.example/", "https://a.example.evil/", false},
		{"https://a.example/", "https://sub.a.example/", false},
		{"https://bücher.example/", "https://xn--bcher-kva.example/", true},
		{"https://a.example/", "not a url", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := transport.SameOrigin(tt.a, tt.b); got != tt.want {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := transport.SameOrigin(tt.b, tt.a); got != tt.want {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"EVIL.example.", "evil.example"},
		{"evil.example", "evil.example"},
		{"Bücher.Example", "xn--bcher-kva.example"},
		{"[::FFFF:127.0.0.1]", "::ffff:127.0.0.1"},
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0x7F.0.0.1", "127.0.0.1"},
		{"0177.0.0.01", "127.0.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"１２７.０.０.１", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"1.2.3.4.", "1.2.3.4"},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"1.2.3.09", ""},
		{"4294967296", ""},
		{"example.123", ""},
		{"a.0x", ""},
		{"0xg.example", "0xg.example"},
		{"123.example", "123.example"},
		{"mastodon.so/cial", ""},
		{"evil.example/@good.example", ""},
		{"a.example:443", ""},
		{"a.example..", ""},
		{".", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := transport.NormalizeHost(tt.in)
		if tt.want == "" {
			if !errors.Is(err, transport.ErrInvalidURL) {
				t.Errorf("NormalizeHost(%q) = %q, %v; want ErrInvalidURL", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAddressAllowed(t *testing.T) {
	t.Parallel()
	loopbackOnly := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		addr  string
		allow []netip.Prefix
		want  bool
	}{
		{"1.1.1.1", nil, true},
		{"93.184.215.14", nil, true},
		{"2606:4700:4700::1111", nil, true},
		{"::ffff:8.8.8.8", nil, true},
		{"64:ff9b::808:808", nil, true},
		{"100.63.255.255", nil, true},
		{"100.128.0.0", nil, true},
		{"172.15.255.255", nil, true},
		{"172.32.0.0", nil, true},
		{"223.255.255.255", nil, true},
		{"127.0.0.1", nil, false},
		{"127.1.2.3", nil, false},
		{"::1", nil, false},
		{"10.1.2.3", nil, false},
		{"172.16.0.0", nil, false},
		{"172.31.255.255", nil, false},
		{"192.168.1.1", nil, false},
		{"169.254.169.254", nil, false},
		{"100.64.0.0", nil, false},
		{"100.127.255.255", nil, false},
		{"0.0.0.0", nil, false},
		{"0.255.255.255", nil, false},
		{"224.0.0.251", nil, false},
		{"240.0.0.0", nil, false},
		{"255.255.255.255", nil, false},
		{"192.0.0.170", nil, false},
		{"192.0.2.255", nil, false},
		{"198.19.255.255", nil, false},
		{"198.51.100.7", nil, false},
		{"203.0.113.7", nil, false},
		{"192.88.99.1", nil, false},
		{"::", nil, false},
		{"::10.0.0.1", nil, false},
		{"::ffff:127.0.0.1", nil, false},
		{"::ffff:192.168.0.1", nil, false},
		{"64:ff9b::a00:1", nil, false},
		{"64:ff9b:1::1", nil, false},
		{"100::1", nil, false},
		{"2001::1", nil, false},
		{"2001:db8::1", nil, false},
		{"2002:a00:1::1", nil, false},
		{"3fff::1", nil, false},
		{"5f00::1", nil, false},
		{"fc00::1", nil, false},
		{"fdff:ffff::1", nil, false},
		{"fe80::1", nil, false},
		{"fe80::1%eth0", nil, false},
		{"febf::1", nil, false},
		{"fec0::1", nil, false},
		{"ff02::1", nil, false},
		{"127.0.0.1", loopbackOnly, true},
		{"::ffff:127.0.0.1", loopbackOnly, true},
		{"10.0.0.1", loopbackOnly, false},
		{"::1", loopbackOnly, false},
		{"127.0.0.1", transport.InsecurePrefixes(), true},
		{"::1", transport.InsecurePrefixes(), true},
		{"::ffff:10.1.2.3", transport.InsecurePrefixes(), true},
		{"192.168.1.10", transport.InsecurePrefixes(), true},
		{"fd00::5", transport.InsecurePrefixes(), true},
		{"169.254.169.254", transport.InsecurePrefixes(), false},
		{"fe80::1", transport.InsecurePrefixes(), false},
		{"0.0.0.0", transport.InsecurePrefixes(), false},
		{"224.0.0.1", transport.InsecurePrefixes(), false},
	}
	for _, tt := range tests {
		if got := transport.AddressAllowed(netip.MustParseAddr(tt.addr), tt.allow); got != tt.want {
			t.Errorf("AddressAllowed(%s, %v) = %v, want %v", tt.addr, tt.allow, got, tt.want)
		}
	}
	if transport.AddressAllowed(netip.Addr{}, nil) {
		t.Error("the zero Addr is allowed")
	}
}
