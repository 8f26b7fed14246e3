package dialect

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// realistic returns a profile file of n sections: a few templates, then endpoints inheriting
// one or two of them, with comments, "+=" and dialplan-style "=>" lines.
func realistic(n int) string {
	var b strings.Builder
	b.WriteString(";--------------------------------------\n; caller/callee templates\n;--------------------------------------\n")
	b.WriteString("[base](!)\ncontext = {{ .Request.Header \"X-Context\" | default \"default\" }}\nallow = ulaw\nallow += ,alaw\nlanguage = en\n\n")
	b.WriteString("[nat](!,base)\nrtp_symmetric = yes\nforce_rport = yes ; behind NAT\n\n")
	b.WriteString("[vm](!)\nmailbox = {{ .Request.Header \"X-MailBoxId\" }}\nvm_greeting = default\n\n")
	b.WriteString(";-- block comment\n  describing the phones ;-- nested --;\n--;\n")
	for i := 3; i < n; i++ {
		parents := "base"
		switch i % 3 {
		case 1:
			parents = "nat"
		case 2:
			parents = "nat,vm"
		}
		fmt.Fprintf(&b, "[phone%d](%s)\n", i, parents)
		fmt.Fprintf(&b, "callerid = \"Phone %d\" <%d>\n", i, 1000+i)
		b.WriteString("allow += ,g722\n")
		fmt.Fprintf(&b, "exten => %d,1,NoOp(call to {{ .Request.To.User }})\n", 1000+i)
		fmt.Fprintf(&b, "exten => %d,n,Dial(PJSIP/phone%d,30)\n", 1000+i, i)
		b.WriteString("exten => _X.,n,Hangup() ; catch all\n")
		b.WriteString("note = semi\\;colon\n\n")
	}
	return b.String()
}

func BenchmarkLoad(b *testing.B) {
	fsys := fstest.MapFS{"profiles.conf": {Data: []byte(realistic(200))}}
	doc, err := Load(fsys, "profiles.conf")
	if err != nil || len(doc.Sections) != 200 || len(doc.Warnings) != 0 {
		b.Fatalf("bad benchmark input: %d sections, %v, warnings %v", len(doc.Sections), err, doc.Warnings)
	}
	b.SetBytes(int64(len(fsys["profiles.conf"].Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(fsys, "profiles.conf"); err != nil {
			b.Fatal(err)
		}
	}
}
