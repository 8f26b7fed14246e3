package request

import "net/netip"

// Sample returns a representative INVITE with every field set. Template sets dry-run their
// values against it at load time, so a typo such as {{ .Form.User }} fails with file:line
// before any call arrives.
func Sample() *Request {
	return New("INVITE",
		URI{Scheme: "sip", User: "1002", Host: "sidecar.invalid", Port: 5080},
		Address{Display: "Alice", URI: URI{Scheme: "sip", User: "1001", Host: "example.invalid"}, Tag: "sample-from-tag"},
		Address{Display: "Bob", URI: URI{Scheme: "sip", User: "1002", Host: "example.invalid"}},
		"sample-call-id@sidecar.invalid",
		Endpoint{IP: netip.MustParseAddr("192.0.2.10"), Port: 5060}, "udp",
		[]Field{
			{Name: "X-Caller-Template", Value: "subscriber;user=1001"},
			{Name: "X-Callee-Template", Value: "subscriber;user=1002"},
			{Name: "X-MailBoxId", Value: "1002"},
		})
}
