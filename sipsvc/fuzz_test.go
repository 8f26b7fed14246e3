package sipsvc_test

import (
	"testing"
	"time"
)

// FuzzDatagram sends arbitrary bytes to a running service; it must answer the next OPTIONS.
func FuzzDatagram(f *testing.F) {
	for _, s := range []string{
		"",
		"\r\n\r\n",
		"OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\n\r\n",
		"BYE sip:a@b SIP/2.0\r\nTo: <sip:a@b>;tag=1\r\nFrom: <sip:b@a>;tag=2\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKy\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	e := startEnv(f, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		u := newRawUAC(t, "127.0.0.1", e.udp)
		u.send(string(data))
		u.send(u.text(&msg{method: "OPTIONS", ruri: "sip:" + e.udp.String()}))
		deadline := time.Now().Add(2 * time.Second)
		for {
			res := u.final(time.Until(deadline))
			if res.CSeq() != nil && res.CSeq().MethodName == "OPTIONS" {
				if res.StatusCode != 200 {
					t.Fatalf("OPTIONS after %q: got %d", data, res.StatusCode)
				}
				return
			}
		}
	})
}
