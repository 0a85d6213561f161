package pub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddingGuideShowsTheExamples keeps the code shown in
// docs/embedding.md in step with the Examples it copies, which are compiled
// and run.
func TestEmbeddingGuideShowsTheExamples(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		example string // the function's name
		file    string // where it is defined
		section string // a heading the guide must have, if any
	}{
		{"Example", "example_test.go", ""},
		{"ExampleFederation", "example_federation_test.go", "## A complete federating program"},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			src, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			want := extractFunc(string(src), tt.example)
			if want == "" {
				t.Fatalf("no %s in %s", tt.example, tt.file)
			}
			if tt.section != "" && !strings.Contains(string(guide), tt.section) {
				t.Errorf("docs/embedding.md has no %q section", tt.section)
			}
			if extractFunc(string(guide), tt.example) != want {
				t.Errorf("docs/embedding.md does not show the current %s; copy it from pub/%s", tt.example, tt.file)
			}
		})
	}
}

// extractFunc returns the text of "func name() {" up to its closing brace
// at the start of a line, or "" if text has no such function.
func extractFunc(text, name string) string {
	i := strings.Index(text, "func "+name+"() {")
	if i < 0 {
		return ""
	}
	j := strings.Index(text[i:], "\n}\n")
	if j < 0 {
		return ""
	}
	return text[i : i+j+2]
}
