package dtmf

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
)

// DefaultDuration is the duration given to a digit whose INFO body states none.
const DefaultDuration = 100 * time.Millisecond

// IsInfo reports whether contentType is one of the DTMF bodies ParseInfo reads.
func IsInfo(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/dtmf" || mt == "application/dtmf-relay")
}

// ParseInfo reads the digit of a SIP INFO request by its Content-Type:
// application/dtmf-relay ("Signal=5\r\nDuration=160", duration in ms) or application/dtmf (the
// digit alone). Signal 10 and 11 are read as * and #, as some phones send them. Errors wrap
// ErrMalformed.
func ParseInfo(contentType string, body []byte) (digit rune, dur time.Duration, err error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: content type %q: %v", ErrMalformed, contentType, err)
	}
	switch mt {
	case "application/dtmf":
		return signal(string(bytes.TrimSpace(body)), DefaultDuration)
	case "application/dtmf-relay":
		var sig string
		dur = DefaultDuration
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				sig = v
			case "duration":
				ms, err := strconv.Atoi(v)
				if err != nil || ms <= 0 || ms > 60000 {
					return 0, 0, fmt.Errorf("%w: duration %q", ErrMalformed, v)
				}
				dur = time.Duration(ms) * time.Millisecond
			}
		}
		if sig == "" {
			return 0, 0, fmt.Errorf("%w: dtmf-relay body without Signal", ErrMalformed)
		}
		return signal(sig, dur)
	}
	return 0, 0, fmt.Errorf("%w: content type %q is not a dtmf body", ErrMalformed, mt)
}

func signal(s string, dur time.Duration) (rune, time.Duration, error) {
	switch s {
	case "10":
		return '*', dur, nil
	case "11":
		return '#', dur, nil
	}
	r := []rune(s)
	if len(r) != 1 {
		return 0, 0, fmt.Errorf("%w: signal %q", ErrMalformed, s)
	}
	if _, ok := Code(r[0]); !ok {
		return 0, 0, fmt.Errorf("%w: signal %q", ErrMalformed, s)
	}
	return toUpper(r[0]), dur, nil
}
