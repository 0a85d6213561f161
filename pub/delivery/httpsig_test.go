package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/commonroom/commonroom/pub/bunstore"
	"github.com/commonroom/commonroom/pub/bunstore/bunstoretest"
	"github.com/commonroom/commonroom/pub/delivery"
	"github.com/commonroom/commonroom/pub/httpsig"
)

// TestSchemeFallback: a host believed to take RFC 9421 answers 401 to it; the
// retry is signed with draft-cavage and delivered, and the host is
// remembered as a draft-cavage host.
func TestSchemeFallback(t *testing.T) {
	bunstoretest.ForEach(t, func(t *testing.T, d bunstoretest.Database) {
		clk := newClock(t0)
		cfg := testConfig(clk)
		var mu sync.Mutex
		var seen []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.Header.Get("Signature-Input") != "" {
				seen = append(seen, "rfc9421")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			seen = append(seen, "cavage")
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)

		schemes := httpsig.NewHostSchemes(clk.Now, 0)
		schemes.Advertised(u.Host)
		key, err := httpsig.NewSigner(mustKey(t), testKeyID, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		signers := delivery.SignerSourceFunc(func(ctx context.Context, keyID string) (delivery.Signer, error) {
			return delivery.NewHTTPSigSigner(key, schemes), nil
		})
		pool, err := delivery.New(cfg, bunstore.New(d.Open(t)), mustSender(t, clk.Now, 0), signers)
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{db: d, pool: pool, clk: clk}
		h.enqueue(t, mustJob(t, srv.URL+"/inbox", 1))
		wantStep(t, h, 1)
		clk.Advance(cfg.BackoffMin)
		wantStep(t, h, 1)
		wantCounts(t, h, map[delivery.Outcome]int64{delivery.Retried: 1, delivery.Delivered: 1}, 0)
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 2 || seen[0] != "rfc9421" || seen[1] != "cavage" {
			t.Fatalf("signatures seen: %v", seen)
		}
		if got := schemes.Preferred(u.Host); got != httpsig.Cavage {
			t.Fatalf("preferred scheme afterwards: %v", got)
		}
	})
}
