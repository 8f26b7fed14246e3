package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"codec", "codecs", 1},
		{"kitten", "sitting", 3}, {"listen", "listen", 0}, {"mwi", "wmi", 2},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"codecs", "context", "callerid", "language"}
	for _, tt := range []struct {
		s     string
		limit int
		want  string
	}{
		{"codec", 3, "codecs"}, {"contxt", 3, "context"}, {"langauge", 3, "language"},
		{"zzzzzz", 3, ""}, {"codec", 1, ""},
	} {
		if got := Closest(tt.s, keys, tt.limit); got != tt.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
		}
	}
}
