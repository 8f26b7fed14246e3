package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// presenceMain runs the bench's presence server: it answers every PUBLISH 200 with a SIP-ETag
// and the Expires asked for (as Kamailio's presence module does for a valid publication),
// and any other request 200 with no body (an MWI NOTIFY would be one), so that the sidecar's
// BLF and MWI publishers, pointed at it with [presence] server, see a server that answers.
// Responses it receives are ignored. It prints its port on stdout, keeps its counters in
// -stats (rewritten every 200 ms and at exit), and stops after -for or at SIGTERM/SIGINT.
func presenceMain(args []string) error {
	fs := flag.NewFlagSet("presence", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address to answer on")
	limit := fs.Duration("for", 10*time.Minute, "stop after this long")
	statsFile := fs.String("stats", "", "file rewritten with the counters (publish= modify= other=)")
	readers := fs.Int("readers", 2, "read loops on the socket")
	fs.Parse(args)
	addr, err := net.ResolveUDPAddr("udp4", *listen)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", *listen, err)
	}
	c, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	defer c.Close()
	c.SetReadBuffer(4 << 20)
	c.SetWriteBuffer(4 << 20)
	fmt.Println(c.LocalAddr().(*net.UDPAddr).Port)
	var st presenceStats
	for range max(*readers, 1) {
		go func() {
			buf := make([]byte, 65535)
			out := make([]byte, 0, 1024)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				var ok bool
				if out, ok = st.answer(buf[:n], out[:0]); ok {
					c.WriteToUDPAddrPort(out, from)
				}
			}
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	end := time.After(*limit)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			st.write(*statsFile)
		case <-end:
			return st.write(*statsFile)
		case <-sig:
			return st.write(*statsFile)
		}
	}
}

// presenceStats counts what the presence server answered.
type presenceStats struct {
	publish atomic.Int64 // PUBLISH without SIP-If-Match (a new publication)
	modify  atomic.Int64 // PUBLISH with SIP-If-Match (modify, refresh or removal)
	other   atomic.Int64 // any other request
	etag    atomic.Int64
}

func (s *presenceStats) String() string {
	return fmt.Sprintf("publish=%d modify=%d other=%d", s.publish.Load(), s.modify.Load(), s.other.Load())
}

// write replaces file with the counters (nothing when file is "").
func (s *presenceStats) write(file string) error {
	if file == "" {
		return nil
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(s.String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return os.Rename(tmp, file)
}

// answer appends to out the 200 for the request in msg; false for a response or a datagram
// that is not a request with Via, From, To, Call-ID and CSeq.
func (s *presenceStats) answer(msg, out []byte) ([]byte, bool) {
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\r\n"))
	if len(lines) < 2 || bytes.HasPrefix(lines[0], []byte("SIP/2.0 ")) {
		return out, false
	}
	method, _, _ := bytes.Cut(lines[0], []byte(" "))
	out = append(out, "SIP/2.0 200 OK\r\n"...)
	var need int // Via, From, To, Call-ID, CSeq seen
	expires, ifMatch := []byte("3600"), false
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		switch {
		case hdr(name, "Via", "v"), hdr(name, "From", "f"), hdr(name, "Call-ID", "i"), hdr(name, "CSeq", ""):
			out = append(append(out, l...), "\r\n"...)
			need |= 1
		case hdr(name, "To", "t"):
			out = append(out, l...)
			if !bytes.Contains(value, []byte(";tag=")) {
				out = append(out, ";tag=ps"...)
			}
			out = append(out, "\r\n"...)
			need |= 2
		case hdr(name, "Expires", ""):
			expires = bytes.TrimSpace(value)
		case hdr(name, "SIP-If-Match", ""):
			ifMatch = true
		}
	}
	if need != 3 {
		return out, false
	}
	if string(method) == "PUBLISH" {
		if ifMatch {
			s.modify.Add(1)
		} else {
			s.publish.Add(1)
		}
		out = append(out, "SIP-ETag: e"...)
		out = strconv.AppendInt(out, s.etag.Add(1), 10)
		out = append(append(append(out, "\r\nExpires: "...), expires...), "\r\n"...)
	} else {
		s.other.Add(1)
	}
	return append(out, "Content-Length: 0\r\n\r\n"...), true
}

// hdr reports whether name is the header long (case-insensitive) or its compact form short.
func hdr(name []byte, long, short string) bool {
	return bytes.EqualFold(name, []byte(long)) || (short != "" && bytes.EqualFold(name, []byte(short)))
}
