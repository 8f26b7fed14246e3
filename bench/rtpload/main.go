// Command rtpload is bench/media.sh's load generator and its reference: it places N concurrent
// echo calls on a SIP server (raw SIP over loopback UDP, an RTP/RTCP port pair per call, as a phone has), sends each
// call 50 G.711 packets a second for a fixed time, counts the echoed packets, and reads the
// server's CPU time and resident memory from /proc, so the CPU per echoed packet and the memory
// per active call come out of one run. The same sending code drives a bare UDP reflector
// (rtpload reflect), the floor any echo server sits on. rtpload presence is the presence server
// the sidecar's BLF PUBLISHes go to in the bench, as Kamailio's presence module in a deployment.
//
// Usage:
//
//	rtpload reflect -n N -for 60s            # N sockets echoing what they read; prints their ports
//	rtpload load -sip HOST:PORT -pid PID -n N -d 10s [-exten *43]
//	rtpload load -ports FILE -pid PID -n N -d 10s
//	rtpload presence -stats FILE -for 10m    # answers PUBLISH 200 (SIP-ETag); prints its port
//
// load prints one line of key=value pairs: calls, silent_calls (calls that got no echo at all;
// each is also named on stderr), sent, echoed, lost_pct, srv_cpu_s,
// srv_us_per_pkt (server CPU divided by echoed packets), rss_before_kb, rss_calls_kb,
// rss_per_call_kb, gen_cpu_pct (this program's own CPU over the media phase).
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rtpload reflect|load|presence [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "reflect":
		err = reflectMain(os.Args[2:])
	case "load":
		err = loadMain(os.Args[2:])
	case "presence":
		err = presenceMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpload:", err)
		os.Exit(1)
	}
}

// reflectMain runs the bare reflector: n loopback UDP sockets, each writing every datagram it
// reads back to its sender, for a bounded time.
func reflectMain(args []string) error {
	fs := flag.NewFlagSet("reflect", flag.ExitOnError)
	n := fs.Int("n", 100, "number of sockets (one per call)")
	limit := fs.Duration("for", 60*time.Second, "stop after this long")
	fs.Parse(args)
	conns := make([]*net.UDPConn, *n)
	ports := make([]string, *n)
	for i := range conns {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		conns[i] = c
		ports[i] = strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
	}
	fmt.Println(strings.Join(ports, " "))
	for _, c := range conns {
		go func() {
			buf := make([]byte, 1500)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				c.WriteToUDPAddrPort(buf[:n], from)
			}
		}()
	}
	time.Sleep(*limit)
	return nil
}

// proc is what /proc says about the measured server.
type proc struct{ pid int }

// cpu returns the process's user+system CPU time.
func (p proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)                // field 14 of stat, utime
	k, _ := strconv.ParseInt(f[12], 10, 64)                // field 15, stime
	return time.Duration(u+k) * 10 * time.Millisecond, nil // CLK_TCK is 100 on Linux
}

// rss returns the process's resident set size in KiB.
func (p proc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS")
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// leg is one call's media: a local RTP socket and where its packets go.
type leg struct {
	conn   *net.UDPConn // RTP, on an even port
	rtcp   *net.UDPConn // the next port, as a phone holds it: RTCP sent there lands nowhere else
	remote *net.UDPAddr
	echoed atomic.Int64
}

// openLeg binds an even loopback port and the odd one above it, trying upwards from *next.
func openLeg(next *int) (*leg, error) {
	for ; *next < 65534; *next += 2 {
		p := *next
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			continue
		}
		r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + 1})
		if err != nil {
			c.Close()
			continue
		}
		*next += 2
		return &leg{conn: c, rtcp: r}, nil
	}
	return nil, errors.New("listen rtp: no free even/odd port pair")
}

func loadMain(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	n := fs.Int("n", 100, "concurrent calls")
	d := fs.Duration("d", 10*time.Second, "media duration")
	pid := fs.Int("pid", 0, "server process to measure")
	sipAddr := fs.String("sip", "", "SIP server HOST:PORT (echo calls)")
	portsFile := fs.String("ports", "", "file with the reflector's ports (instead of -sip)")
	exten := fs.String("exten", "*43", "extension to call")
	basePort := fs.Int("rtp-base", 30000, "first even port tried for the calls' RTP/RTCP port pairs")
	fs.Parse(args)
	if *pid == 0 || (*sipAddr == "") == (*portsFile == "") {
		return errors.New("load needs -pid and one of -sip or -ports")
	}
	srv := proc{*pid}
	rssBefore, err := srv.rss()
	if err != nil {
		return err
	}
	legs := make([]*leg, *n)
	next := *basePort
	for i := range legs {
		l, err := openLeg(&next)
		if err != nil {
			return err
		}
		defer l.conn.Close()
		defer l.rtcp.Close()
		legs[i] = l
	}
	var ua *uac
	if *sipAddr != "" {
		if ua, err = dialUAC(*sipAddr, *exten); err != nil {
			return err
		}
		defer ua.close()
		if err := ua.setup(legs); err != nil {
			return err
		}
	} else if err := readPorts(*portsFile, legs); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // let the server settle after call setup
	rssCalls, err := srv.rss()
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	for _, l := range legs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := l.conn.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				l.echoed.Add(1)
			}
		}()
	}
	cpu0, err := srv.cpu()
	if err != nil {
		return err
	}
	self0, start := selfCPU(), time.Now()
	sent := sendMedia(legs, *d)
	time.Sleep(200 * time.Millisecond) // the last echoes
	cpu1, err := srv.cpu()
	if err != nil {
		return err
	}
	self1, wall := selfCPU(), time.Since(start)
	var echoed, silent int64
	for i, l := range legs {
		e := l.echoed.Load()
		echoed += e
		if e == 0 {
			silent++
			fmt.Fprintf(os.Stderr, "rtpload: call %d (local %v, remote %v): no packet echoed\n",
				i, l.conn.LocalAddr(), l.remote)
		}
		l.conn.SetReadDeadline(time.Now())
	}
	wg.Wait()
	if ua != nil {
		if err := ua.teardown(); err != nil {
			fmt.Fprintln(os.Stderr, "rtpload: teardown:", err)
		}
	}
	srvCPU := cpu1 - cpu0
	perPkt := 0.0
	if echoed > 0 {
		perPkt = float64(srvCPU.Microseconds()) / float64(echoed)
	}
	fmt.Printf("calls=%d silent_calls=%d sent=%d echoed=%d lost_pct=%.2f srv_cpu_s=%.2f srv_us_per_pkt=%.2f "+
		"rss_before_kb=%d rss_calls_kb=%d rss_per_call_kb=%.1f gen_cpu_pct=%.0f\n",
		*n, silent, sent, echoed, 100*float64(sent-echoed)/float64(max(sent, 1)), srvCPU.Seconds(), perPkt,
		rssBefore, rssCalls, float64(rssCalls-rssBefore)/float64(*n),
		100*float64(self1-self0)/float64(wall))
	return nil
}

// readPorts points every leg at one of the reflector's ports (the file holds them on one line).
func readPorts(file string, legs []*leg) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read ports: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) < len(legs) {
		return fmt.Errorf("read ports: %d ports for %d calls", len(f), len(legs))
	}
	for i, l := range legs {
		p, err := strconv.Atoi(f[i])
		if err != nil {
			return fmt.Errorf("read ports: %q: %w", f[i], err)
		}
		l.remote = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p}
	}
	return nil
}

// sendMedia sends every leg one 172-byte RTP packet (PCMU, 20 ms) per 20 ms tick for d and
// returns the number of packets sent.
func sendMedia(legs []*leg, d time.Duration) int64 {
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 0 // version 2, payload type 0
	for i := 12; i < len(pkt); i++ {
		pkt[i] = 0xff // PCMU silence
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(d)
	var sent int64
	for seq := uint16(0); time.Now().Before(end); seq++ {
		<-tick.C
		ts := uint32(seq) * 160
		for i, l := range legs {
			pkt[2], pkt[3] = byte(seq>>8), byte(seq)
			pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			ssrc := uint32(i + 1)
			pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
			if _, err := l.conn.WriteToUDP(pkt, l.remote); err == nil {
				sent++
			}
		}
	}
	return sent
}
