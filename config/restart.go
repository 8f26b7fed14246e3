package config

import "slices"

// liveKeys are the keys a reload applies to a running sidecar: the trust list, the
// identifier chain and its settings, limits, the dialplan's defaults, the template directory,
// the sounds (the application registry is rebuilt) and the log level. Every other key is
// bound at start (sockets, TLS files, the media plane, the admin endpoint, the logger's
// format, the watcher) and needs a restart.
var liveKeys = []string{
	"general/templates", "general/log-level",
	"sip/trusted", "sip/untrusted", "sip/identify", "sip/max-calls", "sip/max-cps", "sip/max-queue-delay", "sip/no-match",
	"sip/default-context",
	"identify/ip", "identify/anonymous", "identify/username-prefix",
}

// Live reports whether a reload applies section/key to a running sidecar; false means the
// key needs a restart (or is not a key).
func Live(section, key string) bool { return slices.Contains(liveKeys, section+"/"+key) }

// RestartNeeded lists the keys whose value differs between running (the settings the process
// started with) and next (the settings a reload read) and that a reload cannot apply, as
// "[section] key" in documentation order; nil when there are none.
func RestartNeeded(running, next *Config) []string {
	var out []string
	for _, k := range keySpecs() {
		if Live(k.section, k.name) {
			continue
		}
		a, _ := running.formatKey(k.section, k.name)
		b, _ := next.formatKey(k.section, k.name)
		if !slices.Equal(a, b) {
			out = append(out, "["+k.section+"] "+k.name)
		}
	}
	return out
}
