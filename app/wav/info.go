package wav

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Info describes a mono or stereo WAVE file's audio without reading it.
type Info struct {
	Encoding Encoding
	Rate     int
	Channels int
	// DataOffset and DataSize locate the audio bytes in the file.
	DataOffset, DataSize int64
}

// Samples is the number of samples per channel.
func (i Info) Samples() int64 {
	return i.DataSize / int64(i.Encoding.BytesPerSample()*i.Channels)
}

// ReadInfo parses the chunks of a WAVE file of size bytes up to its data chunk: 16-bit PCM,
// A-law or µ-law, 1 or 2 channels, 4000 to 48000 Hz. A data chunk that claims more than the
// file holds is an error (a file this package writes is complete or not visible).
func ReadInfo(r io.ReaderAt, size int64) (Info, error) {
	var head [12]byte
	if _, err := r.ReadAt(head[:], 0); err != nil || string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return Info{}, fmt.Errorf("%w: not a RIFF WAVE file", ErrFormat)
	}
	var info Info
	haveFmt := false
	for p := int64(12); p+8 <= size; {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], p); err != nil {
			return Info{}, fmt.Errorf("read wav chunk at %d: %w", p, err)
		}
		id := string(ch[0:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		if p+8+n > size {
			return Info{}, fmt.Errorf("%w: chunk %q of %d bytes past the end", ErrFormat, id, n)
		}
		switch id {
		case "fmt ":
			if n < 16 || n > 64 {
				return Info{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, n)
			}
			b := make([]byte, n)
			if _, err := r.ReadAt(b, p+8); err != nil {
				return Info{}, fmt.Errorf("read wav fmt: %w", err)
			}
			info.Encoding = Encoding(binary.LittleEndian.Uint16(b))
			info.Channels = int(binary.LittleEndian.Uint16(b[2:]))
			info.Rate = int(binary.LittleEndian.Uint32(b[4:]))
			bits := int(binary.LittleEndian.Uint16(b[14:]))
			if info.Encoding == 0xfffe && n >= 26 {
				info.Encoding = Encoding(binary.LittleEndian.Uint16(b[24:]))
			}
			ok := (info.Encoding == PCM16 && bits == 16) || ((info.Encoding == ALaw || info.Encoding == MuLaw) && bits == 8)
			if !ok || info.Channels < 1 || info.Channels > 2 || info.Rate < 4000 || info.Rate > 48000 {
				return Info{}, fmt.Errorf("%w: format %d, %d bits, %d channels, %d Hz", ErrFormat, uint16(info.Encoding), bits, info.Channels, info.Rate)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return Info{}, fmt.Errorf("%w: data before fmt", ErrFormat)
			}
			info.DataOffset, info.DataSize = p+8, n
			return info, nil
		}
		p += 8 + n + n%2
	}
	return Info{}, fmt.Errorf("%w: no data chunk", ErrFormat)
}
