package metrics

import "github.com/prometheus/client_golang/prometheus"

// Voicemail is what the VoiceMail and VoiceMailMain applications counted since the start
// (app.VoicemailStats.Snapshot gives it): deposits by outcome, logins by outcome, lockouts.
type Voicemail struct {
	// Deposits counts messages stored; TooShort, MailboxFull, DiskFull, Unavailable (the
	// store could not be reached: [voicemail] unavailable answered) and Failed the deposits
	// that stored nothing, by reason.
	Deposits, TooShort, MailboxFull, DiskFull, Unavailable, Failed uint64
	// Logins counts VoiceMailMain logins, LoginFailures wrong PINs, LockedRefusals the
	// logins refused during a lockout, Lockouts the mailboxes locked.
	Logins, LoginFailures, LockedRefusals, Lockouts uint64
}

// The label values of the voicemail families.
const (
	OutcomeOK          = "ok"
	OutcomeTooShort    = "too_short"
	OutcomeMailboxFull = "mailbox_full"
	OutcomeDiskFull    = "disk_full"
	OutcomeUnavailable = "unavailable"
	OutcomeFailed      = "failed"
	OutcomeBadPIN      = "bad_pin"
	OutcomeLocked      = "locked"
)

var (
	vmDepositsDesc = prometheus.NewDesc("sidecar_voicemail_deposits_total",
		"VoiceMail deposits by outcome: ok (message stored), too_short, mailbox_full, disk_full, unavailable (store unreachable), failed.",
		[]string{"outcome"}, nil)
	vmLoginsDesc = prometheus.NewDesc("sidecar_voicemail_logins_total",
		"VoiceMailMain PIN logins by outcome: ok, bad_pin, locked (refused during a lockout).",
		[]string{"outcome"}, nil)
	vmLockoutsDesc = prometheus.NewDesc("sidecar_voicemail_lockouts_total",
		"Mailboxes locked after too many wrong PINs.", nil, nil)
)

// voicemailCollector reads the voicemail counters at each scrape.
type voicemailCollector struct{ read func() Voicemail }

func (c voicemailCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- vmDepositsDesc
	ch <- vmLoginsDesc
	ch <- vmLockoutsDesc
}

func (c voicemailCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.read()
	counter := func(d *prometheus.Desc, n uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
	}
	counter(vmDepositsDesc, v.Deposits, OutcomeOK)
	counter(vmDepositsDesc, v.TooShort, OutcomeTooShort)
	counter(vmDepositsDesc, v.MailboxFull, OutcomeMailboxFull)
	counter(vmDepositsDesc, v.DiskFull, OutcomeDiskFull)
	counter(vmDepositsDesc, v.Unavailable, OutcomeUnavailable)
	counter(vmDepositsDesc, v.Failed, OutcomeFailed)
	counter(vmLoginsDesc, v.Logins, OutcomeOK)
	counter(vmLoginsDesc, v.LoginFailures, OutcomeBadPIN)
	counter(vmLoginsDesc, v.LockedRefusals, OutcomeLocked)
	counter(vmLockoutsDesc, v.Lockouts)
}

// WatchVoicemail serves the voicemail applications' counters, read at each scrape, as
// sidecar_voicemail_deposits_total{outcome}, sidecar_voicemail_logins_total{outcome} and
// sidecar_voicemail_lockouts_total. Call it once.
func (m *Metrics) WatchVoicemail(read func() Voicemail) {
	if m == nil || read == nil {
		return
	}
	m.reg.MustRegister(voicemailCollector{read: read})
}
