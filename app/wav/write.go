package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Encoding is a WAVE format tag the Writer produces.
type Encoding uint16

// The encodings: 16-bit linear PCM, and G.711 A-law and µ-law stored as is (8 bits a sample).
const (
	PCM16 Encoding = 1
	ALaw  Encoding = 6
	MuLaw Encoding = 7
)

// String names the encoding.
func (e Encoding) String() string {
	switch e {
	case PCM16:
		return "pcm16"
	case ALaw:
		return "alaw"
	case MuLaw:
		return "ulaw"
	}
	return fmt.Sprintf("format %d", uint16(e))
}

// BytesPerSample is 2 for PCM16, 1 for G.711.
func (e Encoding) BytesPerSample() int {
	if e == PCM16 {
		return 2
	}
	return 1
}

// maxData keeps a file's sizes within the RIFF header's 32 bits.
const maxData = 1<<32 - 1 - 64

// Writer streams a mono WAVE file: a header with placeholder sizes first, the audio as it
// comes through a small buffer, and the sizes patched by Close. Memory use does not grow with
// the length of the recording. A G.711 file carries the fmt extension size and the fact chunk
// that RIFF requires for non-PCM formats.
type Writer struct {
	w      io.WriteSeeker
	bw     *bufio.Writer
	enc    Encoding
	rate   int
	n      int64 // data bytes written
	err    error // first error, sticky
	closed bool
	tmp    []byte
}

// NewWriter writes the header of a mono file at rate Hz to w (positioned at its start) and
// returns a Writer for its audio.
func NewWriter(w io.WriteSeeker, enc Encoding, rate int) (*Writer, error) {
	if enc != PCM16 && enc != ALaw && enc != MuLaw {
		return nil, fmt.Errorf("%w: encoding %d", ErrFormat, uint16(enc))
	}
	if rate < 4000 || rate > 48000 {
		return nil, fmt.Errorf("%w: rate %d Hz", ErrFormat, rate)
	}
	wr := &Writer{w: w, bw: bufio.NewWriterSize(w, 4096), enc: enc, rate: rate}
	if _, err := wr.bw.Write(header(enc, rate, 0)); err != nil {
		return nil, fmt.Errorf("write wav header: %w", err)
	}
	return wr, nil
}

// header builds the header of a mono file holding n data bytes.
func header(enc Encoding, rate int, n int64) []byte {
	bps := enc.BytesPerSample()
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVEfmt "...)
	if enc == PCM16 {
		b = binary.LittleEndian.AppendUint32(b, 16)
	} else {
		b = binary.LittleEndian.AppendUint32(b, 18)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(enc))
	b = binary.LittleEndian.AppendUint16(b, 1) // mono
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*bps))
	b = binary.LittleEndian.AppendUint16(b, uint16(bps))
	b = binary.LittleEndian.AppendUint16(b, uint16(8*bps))
	if enc != PCM16 {
		b = binary.LittleEndian.AppendUint16(b, 0) // cbSize
		b = append(b, "fact"...)
		b = binary.LittleEndian.AppendUint32(b, 4)
		b = binary.LittleEndian.AppendUint32(b, uint32(n)) // one byte a sample
	}
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	riff := int64(len(b)) - 8 + n + n%2
	binary.LittleEndian.PutUint32(b[4:], uint32(riff))
	return b
}

// Write appends encoded audio: G.711 bytes, or little-endian 16-bit samples for PCM16 (whole
// samples only).
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("write wav: writer closed")
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.enc == PCM16 && len(p)%2 != 0 {
		return 0, fmt.Errorf("write wav: %d bytes is not whole 16-bit samples", len(p))
	}
	if w.n+int64(len(p)) > maxData {
		return 0, fmt.Errorf("write wav: over %d bytes of audio", int64(maxData))
	}
	n, err := w.bw.Write(p)
	w.n += int64(n)
	if err != nil {
		w.err = fmt.Errorf("write wav: %w", err)
		return n, w.err
	}
	return n, nil
}

// WriteSamples appends 16-bit samples to a PCM16 file.
func (w *Writer) WriteSamples(s []int16) error {
	if w.enc != PCM16 {
		return fmt.Errorf("%w: 16-bit samples into a %s file", ErrFormat, w.enc)
	}
	w.tmp = w.tmp[:0]
	for _, v := range s {
		w.tmp = binary.LittleEndian.AppendUint16(w.tmp, uint16(v))
	}
	_, err := w.Write(w.tmp)
	return err
}

// DataBytes is the audio written so far, in bytes.
func (w *Writer) DataBytes() int64 { return w.n }

// Samples is the audio written so far, in samples.
func (w *Writer) Samples() int64 { return w.n / int64(w.enc.BytesPerSample()) }

// Close flushes the audio, pads an odd data chunk, and patches the header's sizes. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.n%2 == 1 {
		if err := w.bw.WriteByte(0); err != nil {
			w.err = fmt.Errorf("write wav: %w", err)
			return w.err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("write wav: %w", err)
		return w.err
	}
	h := header(w.enc, w.rate, w.n)
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		w.err = fmt.Errorf("patch wav header: %w", err)
		return w.err
	}
	if _, err := w.w.Write(h); err != nil {
		w.err = fmt.Errorf("patch wav header: %w", err)
		return w.err
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		w.err = fmt.Errorf("patch wav header: %w", err)
		return w.err
	}
	return nil
}
