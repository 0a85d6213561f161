package streams_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/commonroom/commonroom/streams"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fixturesDir returns ../shared/fixtures/activitypub relative to the module
// root. It skips the test when the folder is missing, or fails it when
// CI=true.
func fixturesDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	fx := filepath.Join(dir, "..", "shared", "fixtures", "activitypub")
	if _, err := os.Stat(fx); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fixtures folder %s is missing (CI=true): %v", fx, err)
		}
		tb.Skipf("fixtures folder %s is missing; skipping (set CI=true to fail instead)", fx)
	}
	return fx
}

// fixtureFiles returns every .json fixture, relative names first.
func fixtureFiles(tb testing.TB) (string, []string) {
	tb.Helper()
	dir := fixturesDir(tb)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".json") {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir, files
}

// MustRead reads a file or fails the test.
func MustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustParse parses data with r or fails the test.
func MustParse(tb testing.TB, r *streams.Registry, data []byte) *streams.Object {
	tb.Helper()
	o, err := r.Parse(data)
	if err != nil {
		tb.Fatalf("parse: %v\n%s", err, truncate(data))
	}
	return o
}

// MustMarshal serializes o or fails the test.
func MustMarshal(tb testing.TB, o *streams.Object) []byte {
	tb.Helper()
	b, err := o.MarshalJSON()
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	return b
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return ts
}
