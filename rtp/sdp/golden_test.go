package sdp

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden answers in testdata/answer")

// TestGoldenAnswers answers each testdata/answer/*.txtar offer (file "offer", CRLF added) with
// the codecs of the archive's comment ("codecs: a,b") and compares with file "answer" (or
// "error", the error text). -update rewrites them.
func TestGoldenAnswers(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "answer", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var codecs []string
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if v, ok := strings.CutPrefix(line, "codecs:"); ok && strings.TrimSpace(v) != "" {
					codecs = strings.Split(strings.TrimSpace(v), ",")
				}
			}
			var offer []byte
			for _, f := range ar.Files {
				if f.Name == "offer" {
					offer = bytes.ReplaceAll(f.Data, []byte("\n"), []byte("\r\n"))
				}
			}
			name, got := "answer", answer(offer, codecs)
			if strings.HasPrefix(got, "error: ") {
				name = "error"
			}
			if *update {
				var keep []txtar.File
				for _, f := range ar.Files {
					if f.Name == "offer" {
						keep = append(keep, f)
					}
				}
				ar.Files = append(keep, txtar.File{Name: name, Data: []byte(got)})
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want string
			for _, f := range ar.Files {
				if f.Name == name {
					want = string(f.Data)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		})
	}
}

func answer(offer []byte, codecs []string) string {
	d, err := Parse(offer)
	if err == nil {
		var fs []Format
		if fs, err = Negotiate(d, codecs); err == nil {
			l := Local{SessionID: 1, Version: 1, Addr: netip.MustParseAddr("192.0.2.1"), Port: 20000,
				Formats: fs, Direction: d.Direction.Reverse(), Ptime: 20, Streams: d.Streams, Audio: d.Audio}
			if d.Ptime != 0 {
				l.Ptime = d.Ptime
			}
			return strings.ReplaceAll(string(l.Marshal()), "\r\n", "\n")
		}
	}
	return "error: " + err.Error() + "\n"
}
