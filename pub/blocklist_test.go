package pub_test

import (
	"context"
	"testing"

	"github.com/commonroom/commonroom/pub"
)

func TestBlocklistMatchesNormalizedHosts(t *testing.T) {
	bl, err := pub.NewBlocklist("EVIL.example.", "mastodon.social", "xn--bcher-kva.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"evil.example", true},
		{"evil.example.", true},
		{"EVIL.EXAMPLE", true},
		{"sub.evil.example", true},
		{"notevil.example", false},
		{"evil.example.com", false},
		{"mastodon.social", true},
		{"bücher.example", true},
		{"good.example", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.host, func(t *testing.T) {
			got, err := bl.DomainBlocked(context.Background(), tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("DomainBlocked(%q) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
	if _, err := bl.DomainBlocked(context.Background(), "mastodon.so/cial"); err == nil {
		t.Error("mastodon.so/cial was accepted as a host")
	}
	if err := bl.Add("mastodon.so/cial"); err == nil {
		t.Error("mastodon.so/cial was accepted as a blocked domain")
	}
}

func TestMemoryKeyStoreConcurrent(t *testing.T) {
	st := pub.NewMemoryKeyStore()
	ctx := context.Background()
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 100 {
				id := "https://a.example/users/" + string(rune('a'+i)) + "#k" + string(rune('0'+j%10))
				owner := "https://a.example/users/" + string(rune('a'+i))
				if err := st.PutRemoteKey(ctx, pub.RemoteKey{ID: id, Owner: owner}); err != nil {
					t.Error(err)
					return
				}
				if _, err := st.RemoteKey(ctx, id); err != nil {
					t.Error(err)
					return
				}
				if _, err := st.OwnerKeys(ctx, owner); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	if st.Len() != 80 {
		t.Errorf("Len = %d, want 80", st.Len())
	}
	// Moving a key to another owner removes it from the first.
	id := "https://a.example/users/a#k0"
	if err := st.PutRemoteKey(ctx, pub.RemoteKey{ID: id, Owner: "https://a.example/users/z"}); err != nil {
		t.Fatal(err)
	}
	ks, _ := st.OwnerKeys(ctx, "https://a.example/users/a")
	for _, k := range ks {
		if k.ID == id {
			t.Errorf("key %s still listed under its old owner", id)
		}
	}
	if err := st.PutRemoteKey(ctx, pub.RemoteKey{}); err == nil {
		t.Error("key without id accepted")
	}
}
