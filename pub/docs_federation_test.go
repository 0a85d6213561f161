package pub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddingGuideShowsTheFederationExample keeps the "A complete
// federating program" section of docs/embedding.md in step with
// ExampleFederation, which is compiled and run.
func TestEmbeddingGuideShowsTheFederationExample(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_federation_test.go")
	if err != nil {
		t.Fatal(err)
	}
	extract := func(text string) string {
		i := strings.Index(text, "func ExampleFederation() {")
		if i < 0 {
			return ""
		}
		j := strings.Index(text[i:], "\n}\n")
		if j < 0 {
			return ""
		}
		return text[i : i+j+2]
	}
	want := extract(string(src))
	if want == "" {
		t.Fatal("no ExampleFederation in example_federation_test.go")
	}
	if !strings.Contains(string(guide), "## A complete federating program") || extract(string(guide)) != want {
		t.Error("docs/embedding.md does not show the current ExampleFederation; copy it from pub/example_federation_test.go")
	}
}
