package pub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddingGuideShowsTheExample keeps docs/embedding.md's code in step
// with Example, which is compiled and run.
func TestEmbeddingGuideShowsTheExample(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	extract := func(text string) string {
		i := strings.Index(text, "func Example() {")
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
		t.Fatal("no Example in example_test.go")
	}
	if got := extract(string(guide)); got != want {
		t.Errorf("docs/embedding.md does not show the current Example; copy func Example from pub/example_test.go")
	}
}
