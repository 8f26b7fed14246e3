package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/sidecar-voip/sidecar/routing"
)

// maxRenderInput bounds the SIP request render reads.
const maxRenderInput = routing.MaxRenderInput

// runRender implements "sidecar render [-config FILE] [-templates DIR] [-source IP:PORT]
// [-transport udp|tcp|tls] [-show-secrets] FILE|-": it reads one raw SIP request (LF or CRLF
// line endings), checks the source against [sip] trusted, runs the identifier chain of the
// settings, builds the caller's and the callee's profile, picks the dialplan context and
// extension, and prints all of it as JSON with the extension's steps as written and with
// their arguments expanded for the request: routing.Render, over the same Route the SIP
// service calls. Exit status: 0 on success, 1 when the settings or
// templates do not load, the request does not parse, the source is not trusted, no
// identifier matches (or one rejects the request) or a profile fails to build, 2 on a usage
// error.
func runRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("render", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("templates", "", "`DIR`ectory of template files (default: [general] templates, else the shipped templates)")
	cfgPath := fl.String("config", "", "settings `FILE` (default: the embedded defaults)")
	source := fl.String("source", "127.0.0.1:5060", "`IP:PORT` the request is taken to come from")
	transport := fl.String("transport", "udp", "transport the request is taken to arrive on: udp, tcp or tls")
	showSecrets := fl.Bool("show-secrets", false, "print mailbox PINs instead of ****")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidecar render [-config FILE] [-templates DIR] [-source IP:PORT] [-transport udp|tcp|tls] [-show-secrets] FILE|-")
		fl.PrintDefaults()
	}
	if code, ok := parseFlags(fl, args); !ok {
		return code
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return 2
	}
	src, err := netip.ParseAddrPort(*source)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: -source %q: want IP:PORT\n", *source)
		return 2
	}
	switch *transport {
	case "udp", "tcp", "tls":
	default:
		fmt.Fprintf(stderr, "sidecar render: -transport %q: want udp, tcp or tls\n", *transport)
		return 2
	}

	raw, err := readInput(fl.Arg(0), stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	*dir = templatesDir(*dir, cfg)
	bundle, diag := load(cfg, *dir, nil, nil, nil)
	if diag.Err() != nil {
		printDiagnostics(stderr, *dir, diag.Errors, nil)
		for _, m := range diag.SettingErrors {
			fmt.Fprintf(stderr, "%s: %s\n", configName(*cfgPath), m)
		}
		fmt.Fprintf(stderr, "sidecar render: the templates, the dialplan or the identifiers do not load (run sidecar check)\n")
		return 1
	}
	res, err := routing.Render(context.Background(), bundle, routing.RenderInput{
		Raw: raw, Source: src, Transport: *transport, ShowSecrets: *showSecrets,
	})
	if res != nil {
		out, merr := json.MarshalIndent(res, "", "  ")
		if merr != nil {
			fmt.Fprintf(stderr, "sidecar render: %v\n", merr)
			return 1
		}
		stdout.Write(append(out, '\n'))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sidecar render: %v\n", err)
		return 1
	}
	return 0
}

// readInput reads FILE, or stdin for "-", up to maxRenderInput bytes.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read request: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxRenderInput+1))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(raw) > maxRenderInput {
		return nil, fmt.Errorf("read request: larger than %d bytes", maxRenderInput)
	}
	return raw, nil
}
