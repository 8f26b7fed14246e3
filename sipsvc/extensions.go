package sipsvc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// errUnsupportedBody reports a request body that is neither SDP nor a multipart body with an
// SDP part: the request is answered 415 Unsupported Media Type.
var errUnsupportedBody = errors.New("unsupported body")

// maxSDPPart bounds the SDP read out of a multipart body.
const maxSDPPart = 64 << 10

// bodied is what sdpOf needs of a SIP message.
type bodied interface {
	Body() []byte
	ContentType() *sip.ContentTypeHeader
}

// sdpOf returns the SDP a message carries: the body itself when it is application/sdp, the
// first application/sdp part of a multipart body (a carrier's SDP+ISUP), nil when the
// message has no body. Any other body (or a body without Content-Type) fails with
// errUnsupportedBody.
func sdpOf(m bodied) ([]byte, error) {
	body := m.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	ct := ""
	if h := m.ContentType(); h != nil {
		ct = h.Value()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		// The raw value is a header value: not repeated in the error, which is logged.
		return nil, fmt.Errorf("%w: unreadable Content-Type", errUnsupportedBody)
	}
	switch {
	case mt == "application/sdp":
		return body, nil
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		return sdpPart(body, params["boundary"])
	}
	return nil, fmt.Errorf("%w: content type %s", errUnsupportedBody, mt)
}

// sdpPart returns the first application/sdp part of a multipart body.
func sdpPart(body []byte, boundary string) ([]byte, error) {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: multipart body without an application/sdp part", errUnsupportedBody)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: multipart body: %v", errUnsupportedBody, err)
		}
		mt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || mt != "application/sdp" {
			continue
		}
		sdp, err := io.ReadAll(io.LimitReader(p, maxSDPPart+1))
		if err != nil {
			return nil, fmt.Errorf("%w: multipart body: %v", errUnsupportedBody, err)
		}
		if len(sdp) > maxSDPPart {
			return nil, fmt.Errorf("%w: SDP part over %d bytes", errUnsupportedBody, maxSDPPart)
		}
		if len(bytes.TrimSpace(sdp)) == 0 {
			return nil, fmt.Errorf("%w: empty application/sdp part", errUnsupportedBody)
		}
		if !bytes.HasSuffix(sdp, []byte("\n")) {
			// The CRLF before the boundary belongs to the boundary: give the last SDP line its own.
			sdp = append(sdp, '\r', '\n')
		}
		return sdp, nil
	}
}

// readSDP is sdpOf for a request that expects an answer: an unsupported body is answered
// 415 Unsupported Media Type with Accept: application/sdp, and ok is false.
func (s *Server) readSDP(req *sip.Request, tx sip.ServerTransaction) (sdp []byte, ok bool) {
	sdp, err := sdpOf(req)
	if err != nil {
		s.log.Info("request refused: body is not SDP", "call_id", callIDOf(req), "method", string(req.Method),
			"error", err)
		s.respond(req, tx, sip.StatusUnsupportedMediaType, "", acceptHeader())
		return nil, false
	}
	return sdp, true
}

// requiredTags returns the option tags of every Require header of req. The service
// supports no SIP extension, so each of them is unsupported.
func requiredTags(req *sip.Request) []string {
	var tags []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// refuseRequire answers 420 Bad Extension, with Unsupported naming the tags, to a request
// whose Require names an extension (RFC 3261 8.2.2.3: the service supports none), and
// reports whether it did. Proxy-Require is a proxy's business and is not read.
func (s *Server) refuseRequire(req *sip.Request, tx sip.ServerTransaction) bool {
	tags := requiredTags(req)
	if len(tags) == 0 {
		return false
	}
	// The tags are header values: never logged, only counted.
	s.log.Info("request refused: Require names an unsupported extension", "call_id", callIDOf(req),
		"method", string(req.Method), "tags", len(tags))
	s.respond(req, tx, sip.StatusBadExtension, "", sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
	return true
}
