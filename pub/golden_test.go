package pub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/commonroom/commonroom/pub"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// maskKeys replaces key material, which differs on every run, with
// placeholders.
func maskKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "publicKeyPem":
				x[k] = "<PKIX PEM>"
			case "publicKeyMultibase":
				x[k] = "<z + base58btc(0xed01 + Ed25519 key)>"
			default:
				x[k] = maskKeys(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = maskKeys(e)
		}
	}
	return v
}

func TestInstanceActorGolden(t *testing.T) {
	keys, err := pub.NewActorKeys(context.Background(), newPoolSource(t), "https://school.example/actor", newFakeClock().Now())
	if err != nil {
		t.Fatal(err)
	}
	ia, err := pub.NewInstanceActor(keys, pub.InstanceConfig{BaseURL: "https://school.example", Name: "School of Rock"})
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(ia.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(maskKeys(doc)); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "instance_actor.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pub/ -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("instance actor document changed (go test ./pub/ -run Golden -update to accept):\n%s", got)
	}
}
