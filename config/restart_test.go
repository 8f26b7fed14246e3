package config

import (
	"slices"
	"testing"
)

// A reload reports the keys bound at start whose value changed, and only those.
func TestRestartNeeded(t *testing.T) {
	running, err := Parse("a.ini", []byte("[sip]\nlisten = udp:127.0.0.1:5080\nmax-calls = 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	same, _ := Parse("b.ini", []byte("[sip]\nlisten = udp:127.0.0.1:5080\nmax-calls = 20\ntrusted = 10.0.0.0/8\n"))
	if got := RestartNeeded(running, same); got != nil {
		t.Errorf("live changes only: got %q, want none", got)
	}
	next, err := Parse("c.ini", []byte("[general]\nlog-format = json\n[sip]\nlisten = udp:127.0.0.1:5090\n"+
		"drain-grace = 5s\n[admin]\nlisten = 127.0.0.1:8080\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[general] log-format", "[sip] listen", "[sip] drain-grace", "[admin] listen"}
	if got := RestartNeeded(running, next); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Every live key is a key of the file.
func TestLiveKeysExist(t *testing.T) {
	for _, k := range liveKeys {
		found := false
		for _, s := range keySpecs() {
			if s.section+"/"+s.name == k {
				found = true
			}
		}
		if !found {
			t.Errorf("live key %s is not a key", k)
		}
	}
}
