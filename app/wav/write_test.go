package wav

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriterPCM16RoundTrip(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "a.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, PCM16, 16000)
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{0, 1, -1, 32767, -32768, 1234}
	for range 3 {
		if err := w.WriteSamples(want); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	got, rate, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 16000 || len(got) != 18 || got[3] != 32767 || got[10] != -32768 {
		t.Fatalf("got %d Hz %v", rate, got)
	}
	if !bytes.Equal(b, Encode(append(append(append([]int16{}, want...), want...), want...), 16000)) {
		t.Fatal("streamed file differs from Encode's")
	}
}

func TestWriterG711Header(t *testing.T) {
	for _, enc := range []Encoding{MuLaw, ALaw} {
		t.Run(enc.String(), func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "a.wav"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := NewWriter(f, enc, 8000)
			if err != nil {
				t.Fatal(err)
			}
			payload := []byte{0xff, 0x7f, 0x00, 0x55, 0xd5}
			if _, err := w.Write(payload); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteSamples([]int16{1}); err == nil {
				t.Fatal("16-bit samples into a G.711 file: no error")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(f.Name())
			// 12 RIFF + 26 fmt + 12 fact + 8 data header + 5 audio + 1 pad.
			if len(b) != 64 {
				t.Fatalf("file of %d bytes, want 64", len(b))
			}
			le := binary.LittleEndian
			checks := []struct {
				name      string
				got, want uint32
			}{
				{"riff size", le.Uint32(b[4:]), uint32(len(b) - 8)},
				{"fmt size", le.Uint32(b[16:]), 18},
				{"format", uint32(le.Uint16(b[20:])), uint32(enc)},
				{"byte rate", le.Uint32(b[28:]), 8000},
				{"bits", uint32(le.Uint16(b[34:])), 8},
				{"fact samples", le.Uint32(b[46:]), 5},
				{"data size", le.Uint32(b[54:]), 5},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
				}
			}
			if string(b[38:42]) != "fact" || string(b[50:54]) != "data" || !bytes.Equal(b[58:63], payload) {
				t.Errorf("layout: % x", b)
			}
			info, err := ReadInfo(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if info != (Info{Encoding: enc, Rate: 8000, Channels: 1, DataOffset: 58, DataSize: 5}) {
				t.Fatalf("info %+v", info)
			}
		})
	}
}

func TestReadInfoRejectsTruncated(t *testing.T) {
	b := Encode(make([]int16, 100), 8000)
	if _, err := ReadInfo(bytes.NewReader(b[:100]), 100); err == nil {
		t.Fatal("truncated data chunk accepted")
	}
	if _, err := ReadInfo(bytes.NewReader(b[:30]), 30); err == nil {
		t.Fatal("truncated fmt chunk accepted")
	}
	info, err := ReadInfo(bytes.NewReader(b), int64(len(b)))
	if err != nil || info.Samples() != 100 || info.Encoding != PCM16 {
		t.Fatalf("%+v %v", info, err)
	}
}

// TestDecodeG711 reads back a G.711 file the Writer wrote: the values of ITU-T G.711.
func TestDecodeG711(t *testing.T) {
	for _, tc := range []struct {
		enc  Encoding
		in   []byte
		want []int16
	}{
		{MuLaw, []byte{0xff, 0x7f, 0x00, 0x80, 0xef}, []int16{0, 0, -32124, 32124, 132}},
		{ALaw, []byte{0xd5, 0x55, 0xaa, 0x2a}, []int16{8, -8, 32256, -32256}},
	} {
		f, err := os.Create(filepath.Join(t.TempDir(), "a.wav"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(f, tc.enc, 8000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(tc.in); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b, _ := os.ReadFile(f.Name())
		got, rate, err := Decode(b)
		if err != nil || rate != 8000 {
			t.Fatalf("%s: Decode: rate %d, %v", tc.enc, rate, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.enc, got, tc.want)
		}
	}
}
