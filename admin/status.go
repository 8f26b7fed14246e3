package admin

import (
	"math"
	"time"
)

// statusJSON is the body of /status. Field names follow the metric names.
type statusJSON struct {
	Version       string    `json:"version"`
	StartTime     time.Time `json:"start_time"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Draining      bool      `json:"draining"`
	SIP           sipJSON   `json:"sip"`
	Media         mediaJSON `json:"media"`
}

type sipJSON struct {
	CallsActive   int            `json:"calls_active"`
	CallsTotal    uint64         `json:"calls_total"`
	CallsAnswered uint64         `json:"calls_answered"`
	CallsNoACK    uint64         `json:"calls_no_ack"`
	Options       uint64         `json:"options"`
	Untrusted     uint64         `json:"untrusted"`
	Rejected      map[int]uint64 `json:"rejected"`
	Panics        uint64         `json:"panics"`
}

type mediaJSON struct {
	SessionsActive  int    `json:"sessions_active"`
	PacketsSent     uint32 `json:"packets_sent"`
	SentBytes       uint32 `json:"sent_bytes"`
	PacketsReceived uint32 `json:"packets_received"`
	PacketsLost     int64  `json:"packets_lost"`
	Dropped         uint32 `json:"dropped"`
}

func statusOf(sn *snapshot) statusJSON {
	rej := sn.sip.Rejected
	if rej == nil {
		rej = map[int]uint64{}
	}
	up := sn.now.Sub(sn.start)
	return statusJSON{
		Version:       sn.version,
		StartTime:     sn.start.UTC(),
		UptimeSeconds: math.Round(max(up, 0).Seconds()*1e3) / 1e3,
		Draining:      sn.draining,
		SIP: sipJSON{
			CallsActive:   sn.sip.CallsActive,
			CallsTotal:    sn.sip.CallsTotal,
			CallsAnswered: sn.sip.Answered,
			CallsNoACK:    sn.sip.NoACK,
			Options:       sn.sip.Options,
			Untrusted:     sn.sip.Untrusted,
			Rejected:      rej,
			Panics:        sn.sip.Panics,
		},
		Media: mediaJSON{
			SessionsActive:  sn.mediaActive,
			PacketsSent:     sn.media.PacketsSent,
			SentBytes:       sn.media.OctetsSent,
			PacketsReceived: sn.media.PacketsReceived,
			PacketsLost:     sn.media.PacketsLost,
			Dropped:         sn.media.Dropped,
		},
	}
}
