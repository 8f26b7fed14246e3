package voicemail

import (
	"fmt"
	"time"
)

// Limits bound what one mailbox accepts. Settings give the defaults, a profile may override
// them per call: they are passed to each Deposit rather than fixed in the store.
type Limits struct {
	// MaxMessages is the most messages a folder holds; a deposit into a full folder is refused
	// (Asterisk's maxmsg; 0 makes the mailbox greetings-only).
	MaxMessages int
	// MaxDuration caps a message (maxsecs); 0 means no cap.
	MaxDuration time.Duration
	// MinDuration is the shortest message kept (minsecs); shorter ones are discarded.
	MinDuration time.Duration
	// MaxSilence ends a recording after this much silence (maxsilence). The recording
	// application applies it; the store only carries it.
	MaxSilence time.Duration
	// MaxGreeting caps a greeting (maxgreet); 0 means no cap.
	MaxGreeting time.Duration
}

// DefaultLimits are Asterisk's voicemail.conf defaults: maxmsg 100, maxsecs 180, no minsecs,
// maxsilence 10, maxgreet 60.
func DefaultLimits() Limits {
	return Limits{
		MaxMessages: 100,
		MaxDuration: 180 * time.Second,
		MinDuration: 0,
		MaxSilence:  10 * time.Second,
		MaxGreeting: 60 * time.Second,
	}
}

// Validate reports a limit out of range: negative values, or a minimum over the maximum.
func (l Limits) Validate() error {
	switch {
	case l.MaxMessages < 0:
		return fmt.Errorf("maxmsg %d is negative", l.MaxMessages)
	case l.MaxDuration < 0 || l.MinDuration < 0 || l.MaxSilence < 0 || l.MaxGreeting < 0:
		return fmt.Errorf("negative duration in %+v", l)
	case l.MaxDuration > 0 && l.MinDuration > l.MaxDuration:
		return fmt.Errorf("minsecs %v is over maxsecs %v", l.MinDuration, l.MaxDuration)
	}
	return nil
}
