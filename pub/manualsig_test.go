package pub_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/commonroom/commonroom/pub"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// cavageSign signs req by hand under draft-cavage-12, covering exactly
// headers (which may include "(request-target)" and "(created)"), so tests
// can build signatures weaker than httpsig.Signer ever makes. It sets Date
// from date and Digest from body when they are covered and not already set.
func cavageSign(req *http.Request, body []byte, key pub.PrivateKey, keyID string, date time.Time, headers ...string) {
	if req.Header.Get("Date") == "" {
		req.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	}
	if req.Header.Get("Digest") == "" && len(body) > 0 {
		req.Header.Set("Digest", httpsig.DigestHeader(body))
	}
	var lines []string
	for _, h := range headers {
		switch h {
		case "(request-target)":
			lines = append(lines, h+": "+strings.ToLower(req.Method)+" "+req.URL.RequestURI())
		case "(created)":
			lines = append(lines, h+": "+strconv.FormatInt(date.Unix(), 10))
		case "host":
			lines = append(lines, "host: "+req.URL.Host)
		default:
			lines = append(lines, h+": "+req.Header.Get(h))
		}
	}
	sig := rsaSign(key, strings.Join(lines, "\n"))
	v := fmt.Sprintf(`keyId="%s",algorithm="hs2019",headers="%s",signature="%s"`, keyID, strings.Join(headers, " "), sig)
	if containsString(headers, "(created)") {
		v += fmt.Sprintf(`,created=%d`, date.Unix())
	}
	req.Header.Set("Signature", v)
}

// rfc9421Sign signs req by hand under RFC 9421, covering exactly
// components; created is omitted when zero.
func rfc9421Sign(req *http.Request, body []byte, key pub.PrivateKey, keyID string, created time.Time, components ...string) {
	if len(body) > 0 && req.Header.Get("Content-Digest") == "" {
		req.Header.Set("Content-Digest", httpsig.ContentDigestHeader(body))
	}
	var quoted []string
	var lines []string
	for _, c := range components {
		quoted = append(quoted, `"`+c+`"`)
		var v string
		switch c {
		case "@method":
			v = req.Method
		case "@target-uri":
			v = req.URL.String()
		case "@authority":
			v = req.URL.Host
		case "@path":
			v = req.URL.Path
		default:
			v = req.Header.Get(c)
		}
		lines = append(lines, `"`+c+`": `+v)
	}
	params := "(" + strings.Join(quoted, " ") + ")"
	if !created.IsZero() {
		params += ";created=" + strconv.FormatInt(created.Unix(), 10)
	}
	params += `;keyid="` + keyID + `";alg="rsa-v1_5-sha256"`
	lines = append(lines, `"@signature-params": `+params)
	req.Header.Set("Signature-Input", "sig1="+params)
	req.Header.Set("Signature", "sig1=:"+rsaSign(key, strings.Join(lines, "\n"))+":")
}

func rsaSign(key pub.PrivateKey, base string) string {
	sum := sha256.Sum256([]byte(base))
	sig, err := key.Signer().Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
