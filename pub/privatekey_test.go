package pub_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/commonroom/commonroom/pub"
)

func TestPrivateKeyRedacts(t *testing.T) {
	src := newPoolSource(t)
	rk, _ := src.RSAKey(context.Background())
	ek, _ := src.Ed25519Key(context.Background())
	for _, tc := range []struct {
		name   string
		signer crypto.Signer
	}{
		{"rsa", rk},
		{"ed25519", ek},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pk, err := pub.NewPrivateKey(tc.signer)
			if err != nil {
				t.Fatal(err)
			}
			keys := &pub.ActorKeys{ActorID: "https://a.example/users/a", RSA: pk, Ed25519: pk}
			secret, err := pk.MarshalPKCS8()
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			logger.Info("key", "key", pk, "keys", keys)
			j, _ := json.Marshal(keys)
			outputs := map[string]string{
				"%v":   fmt.Sprintf("%v", pk),
				"%+v":  fmt.Sprintf("%+v", keys),
				"%#v":  fmt.Sprintf("%#v", keys),
				"%s":   fmt.Sprintf("%s", pk),
				"%x":   fmt.Sprintf("%x", pk),
				"%d":   fmt.Sprintf("%d", pk),
				"json": string(j),
				"slog": logs.String(),
			}
			// Fragments of the key material that must never appear.
			var needles []string
			switch tc.name {
			case "rsa":
				needles = []string{rk.D.String()[:20], rk.Primes[0].String()[:20], fmt.Sprintf("%x", rk.D.Bytes()[:10])}
			default:
				needles = []string{fmt.Sprintf("%x", []byte(ek)[:10]), fmt.Sprint([]byte(ek)[:4])}
			}
			for name, out := range outputs {
				if !strings.Contains(out, "redacted") {
					t.Errorf("%s: %q has no redaction marker", name, out)
				}
				for _, n := range needles {
					if strings.Contains(out, n) {
						t.Errorf("%s leaks key material: %q", name, out)
					}
				}
			}
			back, err := pub.ParsePrivateKeyPKCS8(secret)
			if err != nil {
				t.Fatal(err)
			}
			if back.Algorithm() != tc.name || back.Algorithm() != pk.Algorithm() {
				t.Errorf("algorithm = %q, want %q", back.Algorithm(), tc.name)
			}
		})
	}
}

func TestNewPrivateKeyRejectsWeakKeys(t *testing.T) {
	if _, err := pub.NewPrivateKey(nil); err == nil {
		t.Error("nil signer accepted")
	}
	if _, err := (pub.GeneratingKeySource{Bits: 1024}).RSAKey(context.Background()); err == nil {
		t.Error("1024-bit generation accepted")
	}
}

func TestKeyPoolServesReadyKeysThenFallsBack(t *testing.T) {
	src := newPoolSource(t)
	pool := pub.NewKeyPool(src, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pool.Run(ctx) }()
	for pool.Ready() < 3 {
		// The fake source is instant; the pool fills at once.
		select {
		case err := <-done:
			t.Fatalf("Run stopped: %v", err)
		default:
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	seen := map[any]bool{}
	for range 5 { // 3 from the pool, 2 generated on the spot
		k, err := pool.RSAKey(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen[k] = true
	}
	if len(seen) < 5 {
		t.Errorf("pool handed out %d distinct keys in 5 calls, want 5", len(seen))
	}
}
