package media

import (
	"context"
	"errors"
	"time"
)

// Errors of Audio methods, shared by every implementation.
var (
	// ErrClosed reports an operation on a closed Session.
	ErrClosed = errors.New("media session closed")
	// ErrNoEncoder reports that no negotiated codec can be encoded or decoded by the sidecar
	// (only passthrough codecs): Play and Record cannot work, Echo can.
	ErrNoEncoder = errors.New("no negotiated codec can be encoded")
	// ErrNoTelephoneEvent reports that the peer did not negotiate RFC 4733 telephone-event.
	ErrNoTelephoneEvent = errors.New("telephone-event not negotiated")
	// ErrInterrupted reports a Play replaced by another one.
	ErrInterrupted = errors.New("playback interrupted")
	// ErrRecording reports a Record while another Record of the session runs.
	ErrRecording = errors.New("already recording")
)

// Audio is a call's audio as dialplan applications use it: play, echo, send DTMF, receive
// DTMF, record. Apps get it from dialplan.Call.Audio. Apps run one after another on a call,
// each one using the Audio while it runs; Play, Echo and SendDTMF are not meant to run at the
// same time (a Play replaces another, SendDTMF pauses a Play), while Record and Digits run
// alongside any of them.
//
// Every blocking method returns ctx.Err() when ctx ends (the caller hung up, the service
// drains, or the app stopped it) and ErrClosed when the session closes.
type Audio interface {
	// Codec returns the canonical name of the primary negotiated codec ("pcmu"; "" before
	// negotiation).
	Codec() string
	// SampleRate returns the sample rate Play expects from its Source (8000 for G.711, 16000
	// for G.722), or 0 when no negotiated codec can be encoded.
	SampleRate() int
	// Play sends src's audio, encoded with the first negotiated codec the sidecar can encode,
	// one packet per ptime, as one talk spurt. It returns nil when src ends, ErrInterrupted
	// when another Play replaces it, ErrNoEncoder with only passthrough codecs.
	Play(ctx context.Context, src Source) error
	// Echo sends every packet received back to the peer (audio and telephone-events alike)
	// until ctx ends or the peer presses '#' (then it returns nil). It never decodes, so it
	// works with passthrough codecs.
	Echo(ctx context.Context) error
	// SendDTMF sends one digit as RFC 4733 telephone-events lasting dur (at least 40 ms); a
	// Play pauses meanwhile. It returns once the event's end is sent, or
	// ErrNoTelephoneEvent when the peer did not negotiate telephone-event.
	SendDTMF(ctx context.Context, digit rune, dur time.Duration) error
	// Digits returns the channel of the digits received, filtered by the call's DTMF mode
	// (Params.DTMFMode). One channel serves the call's apps in turn; it is bounded, and digits
	// nobody reads are dropped once it is full.
	Digits() <-chan Digit
	// FlushDigits discards the digits queued before an app starts listening.
	FlushDigits()
	// Record delivers the audio received from the peer to sink, decoded to 16-bit PCM, until
	// ctx ends (the normal end: the app decides when to stop, on '#', silence or a time
	// limit) or sink returns an error (which Record returns). Digits keep arriving on
	// Digits meanwhile; Play, Echo and SendDTMF may run at the same time.
	//
	// Frames come in the order of the stream's timestamps: a packet lost (or too late: a
	// reordered or duplicate one is dropped) becomes silence of its length, so the
	// recording keeps the call's timeline (gaps longer than a few seconds, such as a hold,
	// are not filled). Each Frame names its codec and sample rate (8000 for G.711, 16000 for
	// G.722); they change only when the peer switches codec. The session buffers a bounded
	// amount of audio for a slow sink (about a second); beyond that frames are dropped and
	// replaced by silence. Only one Record runs at a time (else ErrRecording); it returns
	// ErrNoEncoder when no negotiated codec can be decoded.
	Record(ctx context.Context, sink Sink) error
}

// Source supplies audio to Play at the rate Audio.SampleRate reports.
type Source interface {
	// ReadFrame fills frame with the next samples and returns how many it wrote; io.EOF (with
	// n == 0 or not) ends the playback. A short frame is padded with silence.
	ReadFrame(frame []int16) (n int, err error)
}

// Frame is a span of recorded audio.
type Frame struct {
	// Codec is the canonical name of the codec the audio arrived in ("pcmu", "g722").
	Codec string
	// SampleRate is the sample rate of Samples in Hz (8000 for G.711, 16000 for G.722).
	SampleRate int
	// Samples is the decoded mono audio. It is valid only until WriteFrame returns: a sink
	// that keeps it copies it.
	Samples []int16
}

// Sink receives the frames of a Record.
type Sink interface {
	// WriteFrame takes one frame; an error ends the Record with that error. It is called
	// from Record's goroutine, one frame at a time.
	WriteFrame(f Frame) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Frame) error

// WriteFrame calls f(fr).
func (f SinkFunc) WriteFrame(fr Frame) error { return f(fr) }

// Digit is one DTMF digit received.
type Digit struct {
	Digit    rune          // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration // as reported by the sender (0 for inband)
	Source   DigitSource
}

// DigitSource is how a digit arrived; its values are also the DTMF modes that select them.
type DigitSource string

// Digit sources.
const (
	SourceRFC4733 DigitSource = "rfc4733"
	SourceInfo    DigitSource = "info"
	SourceInband  DigitSource = "inband"
)

// IsDigit reports whether r is a DTMF digit SendDTMF can send: '0'-'9', '*', '#', 'A'-'D'
// (or 'a'-'d').
func IsDigit(r rune) bool {
	switch {
	case r >= '0' && r <= '9', r == '*', r == '#', r >= 'A' && r <= 'D', r >= 'a' && r <= 'd':
		return true
	}
	return false
}
