package dialect_test

import (
	"fmt"
	"testing/fstest"

	"github.com/sidecar-voip/sidecar/internal/dialect"
)

func ExampleLoad() {
	fsys := fstest.MapFS{
		"phones.conf": {Data: []byte(`
[alice](phone)          ; forward reference: [phone] comes later
allow += ,g722          ; extends the inherited value
callerid = "Alice" <100>

[phone](!)
allow = ulaw
`)},
	}
	doc, err := dialect.Load(fsys, "phones.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range doc.Section("alice").Lines {
		fmt.Printf("%s = %s  (%s, from %q)\n", l.Key, l.Value, l.Pos, l.From)
	}
	// Output:
	// allow = ulaw,g722  (phones.conf:7, from "phone")
	// callerid = "Alice" <100>  (phones.conf:4, from "")
}
