package httpsig_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/pub/httpsig"
)

// Benchmarks behind docs/performance.md ("pub/httpsig: signing and
// verifying"). The claims there are ratios between benchmarks of one run:
//
//	VerifyInboxPOST / RSAVerifyBare <= 1.5
//	SignDelivery    / RSASignBare   <= 1.1

// benchBody is a 2 KB inbox activity.
var benchBody = func() []byte {
	note := strings.Repeat("Lesson plans for the week, shared with the group. ", 40)[:1800]
	return []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://good.example/activities/1","type":"Create","actor":"https://good.example/users/alice","object":{"type":"Note","content":"` + note + `"}}`)
}()

// BenchmarkRSAVerifyBare is one RSA-2048 PKCS#1 v1.5 verification of a
// precomputed SHA-256, the floor of any RSA signature check.
func BenchmarkRSAVerifyBare(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	sum := sha256.Sum256([]byte("(request-target): post /users/bob/inbox"))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &key.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSASignBare is one RSA-2048 PKCS#1 v1.5 signature of a
// precomputed SHA-256.
func BenchmarkRSASignBare(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	sum := sha256.Sum256([]byte("(request-target): post /users/bob/inbox"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := key.Sign(nil, sum[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyInboxPOST verifies a signed 2 KB inbox POST as the inbox
// does: parse the headers, check strength, time and the digest of the body,
// resolve the (already cached) key and verify. RSA-2048.
func BenchmarkVerifyInboxPOST(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		b.Run(scheme.String(), func(b *testing.B) {
			s, err := httpsig.NewSigner(key, testKeyID, fixedClock(testNow))
			if err != nil {
				b.Fatal(err)
			}
			req := newClientRequest(b, http.MethodPost, "https://local.example/users/bob/inbox", string(benchBody))
			if err := s.Sign(req, benchBody, scheme); err != nil {
				b.Fatal(err)
			}
			srv, body := onTheWire(b, req)
			v := httpsig.NewVerifier(httpsig.Config{Now: fixedClock(testNow), Scheme: "https"})
			pub := &key.PublicKey
			resolve := func(context.Context, string) (crypto.PublicKey, error) { return pub, nil }
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				sig, err := v.Parse(srv)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Verify(ctx, sig, body, resolve); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignDelivery signs one 2 KB delivery (Date, digest, signature
// headers) on a fresh header map each time. RSA-2048.
func BenchmarkSignDelivery(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		b.Run(scheme.String(), func(b *testing.B) {
			s, err := httpsig.NewSigner(key, testKeyID, nil)
			if err != nil {
				b.Fatal(err)
			}
			req := newClientRequest(b, http.MethodPost, "https://remote.example/users/bob/inbox", "")
			b.ReportAllocs()
			for b.Loop() {
				req.Header = http.Header{"Content-Type": {"application/activity+json"}}
				req.Body = nil
				if err := s.Sign(req, benchBody, scheme); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyEd25519POST is BenchmarkVerifyInboxPOST with an Ed25519
// key, for comparison.
func BenchmarkVerifyEd25519POST(b *testing.B) {
	key := rfcEd25519Key(b)
	s, err := httpsig.NewSigner(key, testKeyID, fixedClock(testNow))
	if err != nil {
		b.Fatal(err)
	}
	req := newClientRequest(b, http.MethodPost, "https://local.example/users/bob/inbox", string(benchBody))
	if err := s.Sign(req, benchBody, httpsig.RFC9421); err != nil {
		b.Fatal(err)
	}
	srv, body := onTheWire(b, req)
	v := httpsig.NewVerifier(httpsig.Config{Now: fixedClock(testNow), Scheme: "https"})
	pub := key.Public()
	resolve := func(context.Context, string) (crypto.PublicKey, error) { return pub, nil }
	b.ReportAllocs()
	for b.Loop() {
		sig, err := v.Parse(srv)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), sig, body, resolve); err != nil {
			b.Fatal(err)
		}
	}
}

// The two benchmarks below measure the ratios directly: each iteration runs
// the bare RSA operation and the full one back to back and times both with
// the CPU clock of the (locked) OS thread, so that load from other
// processes on a shared machine neither lands on one side only nor counts
// while the thread waits for a CPU. They report full/bare as a metric.

// BenchmarkVerifyRatio reports VerifyInboxPOST / RSAVerifyBare.
func BenchmarkVerifyRatio(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	pub := &key.PublicKey
	sum := sha256.Sum256([]byte("(request-target): post /users/bob/inbox"))
	bareSig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		b.Run(scheme.String(), func(b *testing.B) {
			s, err := httpsig.NewSigner(key, testKeyID, fixedClock(testNow))
			if err != nil {
				b.Fatal(err)
			}
			req := newClientRequest(b, http.MethodPost, "https://local.example/users/bob/inbox", string(benchBody))
			if err := s.Sign(req, benchBody, scheme); err != nil {
				b.Fatal(err)
			}
			srv, body := onTheWire(b, req)
			v := httpsig.NewVerifier(httpsig.Config{Now: fixedClock(testNow), Scheme: "https"})
			resolve := func(context.Context, string) (crypto.PublicKey, error) { return pub, nil }
			ctx := context.Background()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var bare, full time.Duration
			for b.Loop() {
				t0 := threadCPU()
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], bareSig); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU()
				sig, err := v.Parse(srv)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Verify(ctx, sig, body, resolve); err != nil {
					b.Fatal(err)
				}
				t2 := threadCPU()
				bare += t1 - t0
				full += t2 - t1
			}
			b.ReportMetric(float64(full)/float64(bare), "full/bare")
			b.ReportMetric(float64(bare.Microseconds())/float64(b.N), "bare-µs")
			b.ReportMetric(float64(full.Microseconds())/float64(b.N), "full-µs")
		})
	}
}

// BenchmarkSignRatio reports SignDelivery / RSASignBare.
func BenchmarkSignRatio(b *testing.B) {
	key := mustRSAFile(b, "rsa2048.pem")
	sum := sha256.Sum256([]byte("(request-target): post /users/bob/inbox"))
	for _, scheme := range []httpsig.Scheme{httpsig.Cavage, httpsig.RFC9421} {
		b.Run(scheme.String(), func(b *testing.B) {
			s, err := httpsig.NewSigner(key, testKeyID, nil)
			if err != nil {
				b.Fatal(err)
			}
			req := newClientRequest(b, http.MethodPost, "https://remote.example/users/bob/inbox", "")
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var bare, full time.Duration
			for b.Loop() {
				t0 := threadCPU()
				if _, err := key.Sign(nil, sum[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
				t1 := threadCPU()
				req.Header = http.Header{"Content-Type": {"application/activity+json"}}
				req.Body = nil
				if err := s.Sign(req, benchBody, scheme); err != nil {
					b.Fatal(err)
				}
				t2 := threadCPU()
				bare += t1 - t0
				full += t2 - t1
			}
			b.ReportMetric(float64(full)/float64(bare), "full/bare")
			b.ReportMetric(float64(bare.Microseconds())/float64(b.N), "bare-µs")
			b.ReportMetric(float64(full.Microseconds())/float64(b.N), "full-µs")
		})
	}
}
