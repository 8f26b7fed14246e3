// Command diagoecho is the peer the load benchmarks measure the sidecar against: an echo server
// built on github.com/emiago/diago (a Go VoIP framework on sipgo), as a user who picked diago
// instead would write it. It answers every INVITE with 100 and 200 (SDP answer, PCMU plus
// telephone-event, as the sidecar answers), echoes the caller's RTP back with diago's own
// read-write loop (DialogMedia.Echo) until the caller's BYE, and logs only warnings and errors.
//
// It lives in its own Go module under bench/ so the product never imports diago (MPL-2.0).
//
// Usage:
//
//	diagoecho -listen 127.0.0.1:5090 -rtp-ports 20000-29999
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5090", "SIP UDP address to listen on (host:port)")
	rtpPorts := flag.String("rtp-ports", "", "RTP port range LOW-HIGH, HIGH excluded (default: ephemeral ports)")
	flag.Parse()
	if err := run(*listen, *rtpPorts); err != nil {
		fmt.Fprintln(os.Stderr, "diagoecho:", err)
		os.Exit(1)
	}
}

func run(listen, rtpPorts string) error {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("parse -listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("parse -listen %q: %w", listen, err)
	}
	if rtpPorts != "" {
		lo, hi, ok := strings.Cut(rtpPorts, "-")
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if !ok || err1 != nil || err2 != nil || l <= 0 || h <= l {
			return fmt.Errorf("parse -rtp-ports %q: want LOW-HIGH", rtpPorts)
		}
		// diago keeps its RTP port range in these package variables (its only API for it). It
		// walks the range two ports at a time from where the last call stopped, HIGH excluded,
		// and wraps its offset modulo HIGH-LOW: an odd width would put RTP on odd ports after
		// the first wrap.
		if (h-l)%2 == 1 {
			h--
		}
		media.RTPPortStart, media.RTPPortEnd = l, h
	}

	// Warnings and errors only, everywhere diago and sipgo log: no per-call logging at info.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	slog.SetDefault(log)
	sip.SetDefaultLogger(log)
	media.SetDefaultLogger(log)

	ua, err := sipgo.NewUA()
	if err != nil {
		return fmt.Errorf("create user agent: %w", err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua,
		diago.WithLogger(log),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: host, BindPort: port}),
		diago.WithMediaConfig(diago.MediaConfig{
			Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecTelephoneEvent8000},
		}),
	)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = dg.Serve(ctx, echo)
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("serve %s: %w", listen, err)
	}
	return nil
}

// echo answers the call and echoes its audio until the caller hangs up.
func echo(d *diago.DialogServerSession) {
	if err := d.Trying(); err != nil {
		slog.Warn("send 100", "call", d.ID, "error", err)
		return
	}
	med, err := d.Answer(diago.AnswerOptions{})
	if err != nil {
		slog.Warn("answer", "call", d.ID, "error", err)
		return
	}
	// Echo returns io.EOF (or a closed-socket error) when the BYE closes the media session.
	if err := med.Echo(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		slog.Warn("echo", "call", d.ID, "error", err)
	}
	<-d.Context().Done() // the BYE has ended the dialog; returning earlier would make diago send one
}
