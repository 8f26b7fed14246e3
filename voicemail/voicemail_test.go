package voicemail

import (
	"testing"
	"time"
)

func TestDefaultLimitsAreAsterisks(t *testing.T) {
	l := DefaultLimits()
	if l.MaxMessages != 100 || l.MaxDuration != 180*time.Second || l.MinDuration != 0 || l.MaxSilence != 10*time.Second || l.MaxGreeting != 60*time.Second {
		t.Fatalf("%+v", l)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Limits{{MaxMessages: -1}, {MaxSilence: -time.Second}, {MaxDuration: time.Second, MinDuration: 2 * time.Second}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestValidMailboxAndFolders(t *testing.T) {
	for name, want := range map[string]bool{
		"1001": true, "1001@default": true, "a.b-c_d+e": true,
		"": false, ".hidden": false, "../x": false, "a/b": false, "a b": false, "é": false,
		string(make([]byte, MaxMailboxLen+1)): false,
	} {
		if ValidMailbox(name) != want {
			t.Errorf("ValidMailbox(%q) = %v", name, !want)
		}
	}
	for _, f := range Folders {
		if !f.Valid() {
			t.Errorf("%s invalid", f)
		}
	}
	if Folder("Trash").Valid() || Folder("inbox").Valid() || Greeting("greet").Valid() || !Name.Valid() {
		t.Error("folder or greeting validity")
	}
}
