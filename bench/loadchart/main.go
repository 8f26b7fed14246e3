// Command loadchart draws the load benchmarks' raw tables as one PNG: call-setup rate against
// INVITE->200 p99 and against server CPU per call (bench/cps.sh's results.tsv), and concurrent
// echo calls against server CPU and CPU per echoed packet (bench/media.sh's results.txt), the
// sidecar beside its references and peer in every panel. Steps that were not clean are drawn
// with a cross. It lives in its own Go module under bench/ so the product never imports the
// plotting library.
//
// Usage:
//
//	loadchart -cps OUT/cps/results.tsv -media OUT/media/results.txt -o OUT/load.png
package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func main() {
	cpsFile := flag.String("cps", "", "bench/cps.sh results.tsv")
	mediaFile := flag.String("media", "", "bench/media.sh results.txt")
	sustainFile := flag.String("sustain", "", "bench/sustain.sh rss.tsv (RSS and CPU of the sidecar every second)")
	out := flag.String("o", "load.png", "PNG file to write")
	flag.Parse()
	if err := run(*cpsFile, *mediaFile, *sustainFile, *out); err != nil {
		fmt.Fprintln(os.Stderr, "loadchart:", err)
		os.Exit(1)
	}
}

// point is one measured step of one target.
type point struct {
	x, y  float64
	clean bool
}

// series is one target's points in one panel, by x.
type series map[string][]point

func run(cpsFile, mediaFile, sustainFile, out string) error {
	if cpsFile == "" && mediaFile == "" && sustainFile == "" {
		return errors.New("nothing to draw: give -cps, -media and/or -sustain")
	}
	var rows [][]*plot.Plot
	if cpsFile != "" {
		p99, cpu, note, err := readCPS(cpsFile)
		if err != nil {
			return err
		}
		rows = append(rows, []*plot.Plot{
			panel("Call setup: INVITE->200 p99 "+note, "calls/s", "p99 (ms, log scale; 0 drawn at 1)", p99, 50),
			panel("Call setup: server CPU per call", "calls/s", "CPU per call (us)", cpu, 0),
		})
	}
	if mediaFile != "" {
		load, perPkt, note, err := readMedia(mediaFile)
		if err != nil {
			return err
		}
		rows = append(rows, []*plot.Plot{
			panel("Echo media: server CPU "+note, "concurrent calls", "CPU (% of one core)", load, 0),
			panel("Echo media: server CPU per echoed packet", "concurrent calls", "CPU per packet (us)", perPkt, 0),
		})
	}
	if sustainFile != "" {
		rss, cpu, err := readSustain(sustainFile)
		if err != nil {
			return err
		}
		rows = append(rows, []*plot.Plot{
			panel("Sustained rate: sidecar resident memory", "seconds since the first call", "RSS (MiB)", rss, 0),
			panel("Sustained rate: sidecar CPU", "seconds since the first call", "CPU (% of one core)", cpu, 0),
		})
	}
	const w, h = 11 * vg.Inch, 4.25 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h*vg.Length(len(rows))), vgimg.UseDPI(110))
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(rows), Cols: 2, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	for j := range rows {
		for i := range rows[j] {
			rows[j][i].Draw(t.At(dc, i, j))
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	return f.Close()
}

// readCPS reads cps.sh's results.tsv into p99 and CPU-per-call series by target, and a note
// (date and load) from its header comments.
func readCPS(file string) (p99, cpu series, note string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, "", fmt.Errorf("read cps results: %w", err)
	}
	defer f.Close()
	p99, cpu = series{}, series{}
	var head []string
	col := func(cols []string, name string) string {
		if i := slices.Index(head, name); i >= 0 && i < len(cols) {
			return cols[i]
		}
		return ""
	}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			note = noteFrom(line, note)
			continue
		}
		cols := strings.Split(line, "\t")
		if cols[0] == "target" {
			head = cols
			continue
		}
		if head == nil || len(cols) != len(head) {
			return nil, nil, "", fmt.Errorf("%s:%d: a row without the header's %d columns", file, ln, len(head))
		}
		rate, err1 := strconv.ParseFloat(col(cols, "cps"), 64)
		us, err2 := strconv.ParseFloat(col(cols, "srv_us/call"), 64)
		if err1 != nil || err2 != nil {
			return nil, nil, "", fmt.Errorf("%s:%d: cps or srv_us/call is not a number", file, ln)
		}
		clean := col(cols, "verdict") == "clean"
		t := cols[0]
		cpu[t] = append(cpu[t], point{rate, us, clean})
		if v, err := strconv.ParseFloat(col(cols, "p99_ms"), 64); err == nil {
			p99[t] = append(p99[t], point{rate, v, clean})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, "", fmt.Errorf("read %s: %w", file, err)
	}
	if len(cpu) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no results", file)
	}
	return p99, cpu, note, nil
}

// readMedia reads media.sh's results.txt ("target key=value ...") into CPU (% of one core over
// the media phase) and CPU-per-echoed-packet series by target.
func readMedia(file string) (load, perPkt series, note string, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, "", fmt.Errorf("read media results: %w", err)
	}
	load, perPkt = series{}, series{}
	dur := 0.0
	for ln, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			note = noteFrom(line, note)
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, "DUR="); ok {
					dur, _ = strconv.ParseFloat(strings.TrimSuffix(v, "s"), 64)
				}
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kv := map[string]float64{}
		for _, p := range f[1:] {
			k, v, _ := strings.Cut(p, "=")
			kv[k], _ = strconv.ParseFloat(v, 64)
		}
		if kv["calls"] == 0 {
			return nil, nil, "", fmt.Errorf("%s:%d: no calls=", file, ln+1)
		}
		clean := kv["lost_pct"] < 0.1 && kv["silent_calls"] == 0
		perPkt[f[0]] = append(perPkt[f[0]], point{kv["calls"], kv["srv_us_per_pkt"], clean})
		if dur > 0 {
			load[f[0]] = append(load[f[0]], point{kv["calls"], 100 * kv["srv_cpu_s"] / dur, clean})
		}
	}
	if len(perPkt) == 0 {
		return nil, nil, "", fmt.Errorf("%s: no results", file)
	}
	return load, perPkt, note, nil
}

// readSustain reads sustain.sh's rss.tsv (ms since the UAC started, RSS in KiB, CPU ticks of
// 10 ms) into RSS (MiB) and CPU (% of one core over each interval) series of the sidecar.
func readSustain(file string) (rss, cpu series, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("read sustain samples: %w", err)
	}
	const t = "sidecar"
	rss, cpu = series{}, series{}
	var lastMs, lastTicks float64
	for ln, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, nil, fmt.Errorf("%s:%d: want ms, RSS KiB and CPU ticks", file, ln+1)
		}
		var v [3]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", file, ln+1, err)
			}
		}
		rss[t] = append(rss[t], point{v[0] / 1000, v[1] / 1024, true})
		if ln > 0 && v[0] > lastMs {
			cpu[t] = append(cpu[t], point{v[0] / 1000, (v[2] - lastTicks) * 10 * 100 / (v[0] - lastMs), true})
		}
		lastMs, lastTicks = v[0], v[2]
	}
	if len(rss) == 0 {
		return nil, nil, fmt.Errorf("%s: no samples", file)
	}
	return rss, cpu, nil
}

// noteFrom keeps the date and the load average of a results header comment.
func noteFrom(line, note string) string {
	if i := strings.Index(line, "load average:"); i >= 0 {
		l := strings.Fields(line[i+len("load average:"):])
		if len(l) > 0 {
			return strings.TrimSpace(note + " load avg " + strings.TrimSuffix(l[0], ","))
		}
	}
	if f := strings.Fields(line); len(f) > 2 && strings.Count(f[1], "-") == 2 && note == "" {
		return "(" + f[1] + ")"
	}
	return note
}

// styles gives every target the same colour in every panel: the sidecar red, the peer blue,
// the references grey and black.
var styles = map[string]color.Color{
	"sidecar-echo":     color.RGBA{R: 200, G: 30, B: 30, A: 255},
	"sidecar-echo-blf": color.RGBA{R: 230, G: 120, B: 170, A: 255}, // the same with BLF PUBLISHes
	"sidecar":          color.RGBA{R: 200, G: 30, B: 30, A: 255},
	"sidecar-486":      color.RGBA{R: 240, G: 130, B: 40, A: 255},
	"diago-echo":       color.RGBA{R: 30, G: 80, B: 200, A: 255},
	"diago":            color.RGBA{R: 30, G: 80, B: 200, A: 255},
	"uas-200":          color.Black,
	"uas-486":          color.Gray{Y: 110},
	"reflector":        color.Black,
}

// panel draws one plot: a line with round markers per target (crosses for unclean steps) and,
// when limit > 0, a dashed horizontal line at it and a logarithmic y axis (latencies of
// overloaded steps are seconds, the target tens of milliseconds), values below 1 drawn at 1.
func panel(title, xl, yl string, s series, limit float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xl, yl
	p.Y.Min = 0
	floor := 0.0
	if limit > 0 {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		p.Y.Min, floor = 1, 1
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	ymax := 0.0
	for _, n := range names {
		pts := slices.SortedFunc(slices.Values(s[n]), func(a, b point) int { return cmp.Compare(a.x, b.x) })
		c, ok := styles[n]
		if !ok {
			c = color.RGBA{G: 140, A: 255}
		}
		all, bad := plotter.XYs{}, plotter.XYs{}
		for _, q := range pts {
			q.y = max(q.y, floor)
			all = append(all, plotter.XY{X: q.x, Y: q.y})
			ymax = max(ymax, q.y)
			if !q.clean {
				bad = append(bad, plotter.XY{X: q.x, Y: q.y})
			}
		}
		l, sc, err := plotter.NewLinePoints(all)
		if err != nil {
			continue
		}
		l.Color, l.Width = c, vg.Points(1.5)
		sc.Color, sc.Shape, sc.Radius = c, draw.CircleGlyph{}, vg.Points(2.5)
		if n == "reflector" || strings.HasPrefix(n, "uas-") {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l, sc)
		p.Legend.Add(n, l, sc)
		if len(bad) > 0 {
			x, _ := plotter.NewScatter(bad)
			x.Color, x.Shape, x.Radius = c, draw.CrossGlyph{}, vg.Points(6)
			p.Add(x)
		}
	}
	if limit > 0 {
		lim, _ := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: limit}, {X: p.X.Max, Y: limit}})
		lim.Color, lim.Dashes = color.Gray{Y: 150}, []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(lim)
		p.Legend.Add(fmt.Sprintf("%g ms target", limit), lim)
		ymax = max(ymax, limit)
	}
	p.Legend.Add("x = step not clean")
	if ymax == 0 {
		ymax = 1
	}
	p.Y.Max = ymax * 1.45 // room for the legend above the data
	// On the log scale, a whole decade above the data for the legend.
	if limit > 0 {
		p.Y.Max = math.Pow(10, math.Ceil(math.Log10(ymax))+1)
	}
	return p
}
