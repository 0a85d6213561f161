package httpsig_test

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// TestSignatureBases pins how requests become signature bases: header
// folding, derived components, canonical re-serialization of every
// structured-field type in "@signature-params", and malformed inputs.
func TestSignatureBases(t *testing.T) {
	const head = "POST /a/b?q=1&name=J%C3%BCrgen%20X HTTP/1.1\nHost: Example.COM:443\nCache-Control: max-age=60\nCache-Control:   must-revalidate  \nX-Empty: \n"
	tests := []struct {
		name     string
		headers  string
		scheme   string
		wantBase string
		wantErr  error
	}{
		{
			name:    "rfc9421 every parameter type, canonical",
			headers: `Signature-Input: s=("@authority" "@scheme" "@target-uri" "@request-target" "@path" "@query" "cache-control" "x-empty");created=1;keyid="a\"b\\c";x=1.50;y=?0;z=tok/en:1;w=:AAEC:;v=-0.5;u;t=?1` + "\nSignature: s=:AAAA:",
			scheme:  "https",
			wantBase: `"@authority": example.com
"@scheme": https
"@target-uri": https://example.com/a/b?q=1&name=J%C3%BCrgen%20X
"@request-target": /a/b?q=1&name=J%C3%BCrgen%20X
"@path": /a/b
"@query": ?q=1&name=J%C3%BCrgen%20X
"cache-control": max-age=60, must-revalidate
"x-empty": 
"@signature-params": ("@authority" "@scheme" "@target-uri" "@request-target" "@path" "@query" "cache-control" "x-empty");created=1;keyid="a\"b\\c";x=1.5;y=?0;z=tok/en:1;w=:AAEC:;v=-0.5;u;t`,
		},
		{
			name:     "rfc9421 @query-param re-encodes the value",
			headers:  `Signature-Input: s=("@query-param";name="name");keyid="k"` + "\nSignature: s=:AAAA:",
			scheme:   "https",
			wantBase: "\"@query-param\";name=\"name\": J%C3%BCrgen%20X\n\"@signature-params\": (\"@query-param\";name=\"name\");keyid=\"k\"",
		},
		{
			name:     "rfc9421 @authority keeps a non-default port",
			headers:  `Signature-Input: s=("@authority");keyid="k"` + "\nSignature: s=:AAAA:",
			scheme:   "http",
			wantBase: "\"@authority\": example.com:443\n\"@signature-params\": (\"@authority\");keyid=\"k\"",
		},
		{
			name:     "cavage folds repeated headers",
			headers:  `Signature: keyId="k",headers="(request-target) host cache-control",signature="AAAA"`,
			wantBase: "(request-target): post /a/b?q=1&name=J%C3%BCrgen%20X\nhost: Example.COM:443\ncache-control: max-age=60, must-revalidate",
		},
		{name: "rfc9421 upper-case component", headers: `Signature-Input: s=("@Method");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 duplicate component", headers: `Signature-Input: s=("@method" "@method");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 @status on a request", headers: `Signature-Input: s=("@status");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 unknown derived component", headers: `Signature-Input: s=("@nope");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 field parameter sf", headers: `Signature-Input: s=("cache-control";sf);keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 missing field", headers: `Signature-Input: s=("x-absent");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 @query-param absent", headers: `Signature-Input: s=("@query-param";name="zz");keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 component not a string", headers: `Signature-Input: s=(method);keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 no keyid", headers: `Signature-Input: s=("@method");created=1` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 created not an integer", headers: `Signature-Input: s=("@method");created="1";keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 keyid not a string", headers: `Signature-Input: s=("@method");keyid=k` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 label without signature", headers: `Signature-Input: s=("@method");keyid="k"` + "\nSignature: t=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 signature not bytes", headers: `Signature-Input: s=("@method");keyid="k"` + "\nSignature: s=\"AAAA\"", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 input not a list", headers: `Signature-Input: s="@method";keyid="k"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 alg hmac", headers: `Signature-Input: s=("@method");keyid="k";alg="hmac-sha256"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrUnsupportedAlgorithm},
		{name: "rfc9421 trailing comma", headers: `Signature-Input: s=("@method");keyid="k",` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "rfc9421 bad string escape", headers: `Signature-Input: s=("@method");keyid="k\n"` + "\nSignature: s=:AAAA:", wantErr: httpsig.ErrMalformed},
		{name: "cavage unknown pseudo-header", headers: `Signature: keyId="k",headers="(nope)",signature="AAAA"`, wantErr: httpsig.ErrMalformed},
		{name: "cavage signature not base64", headers: `Signature: keyId="k",headers="host",signature="!!"`, wantErr: httpsig.ErrMalformed},
		{name: "cavage unterminated quote", headers: `Signature: keyId="k,headers="host",signature="AAAA`, wantErr: httpsig.ErrMalformed},
		{name: "cavage repeated keyId", headers: `Signature: keyId="k",keyId="j",headers="host",signature="AAAA"`, wantErr: httpsig.ErrMalformed},
		{name: "cavage (created) without created", headers: `Signature: keyId="k",algorithm="hs2019",headers="(created)",signature="AAAA"`, wantErr: httpsig.ErrMalformed},
		{name: "cavage created not a number", headers: `Signature: keyId="k",created=abc,headers="host",signature="AAAA"`, wantErr: httpsig.ErrMalformed},
		{name: "cavage empty headers", headers: `Signature: keyId="k",headers="",signature="AAAA"`, wantErr: httpsig.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := mustReadRequest(t, head+tt.headers+"\n\n")
			v := httpsig.NewVerifier(httpsig.Config{Scheme: tt.scheme})
			sig, err := v.Parse(req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sig.Base() != tt.wantBase {
				t.Errorf("base:\n%s\nwant:\n%s", sig.Base(), tt.wantBase)
			}
		})
	}
}

// TestTargetFromRequestLine: the target is read from the request line as
// received, whether in origin-form or absolute-form, and the scheme comes
// from the connection when the Config does not set one.
func TestTargetFromRequestLine(t *testing.T) {
	const sigHeaders = "Signature-Input: s=(\"@target-uri\" \"@request-target\");keyid=\"k\"\nSignature: s=:AAAA:\n\n"
	req, _ := mustReadRequest(t, "GET https://example.com/x?y=1 HTTP/1.1\nHost: example.com\n"+sigHeaders)
	sig, err := httpsig.NewVerifier(httpsig.Config{}).Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	want := "\"@target-uri\": https://example.com/x?y=1\n\"@request-target\": /x?y=1\n\"@signature-params\": (\"@target-uri\" \"@request-target\");keyid=\"k\""
	if sig.Base() != want {
		t.Errorf("absolute-form base:\n%s\nwant:\n%s", sig.Base(), want)
	}

	req, _ = mustReadRequest(t, "GET /x?y=1 HTTP/1.1\nHost: example.com\n"+sigHeaders)
	req.TLS = &tls.ConnectionState{}
	if sig, err = httpsig.NewVerifier(httpsig.Config{}).Parse(req); err != nil {
		t.Fatal(err)
	}
	if sig.Base() != want {
		t.Errorf("TLS base:\n%s\nwant:\n%s", sig.Base(), want)
	}
	req.TLS = nil
	if sig, err = httpsig.NewVerifier(httpsig.Config{}).Parse(req); err != nil {
		t.Fatal(err)
	}
	if sig.Base() == want {
		t.Error("plain HTTP request got an https target")
	}
}
