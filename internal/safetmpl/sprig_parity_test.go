package safetmpl

import (
	"fmt"
	"testing"

	"github.com/Masterminds/sprig/v3"
)

// TestSprigParity checks that the bounded untilStep and seq give exactly sprig's results on
// every small argument combination (where sprig's own loops are safe).
func TestSprigParity(t *testing.T) {
	fm := sprig.TxtFuncMap()
	untilStep := fm["untilStep"].(func(int, int, int) []int)
	seq := fm["seq"].(func(...int) string)
	for a := -6; a <= 6; a++ {
		for b := -6; b <= 6; b++ {
			for c := -3; c <= 3; c++ {
				got, err := safeUntilStep(a, b, c)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(untilStep(a, b, c)) {
					t.Errorf("untilStep %d %d %d = %v, %v; sprig %v", a, b, c, got, err, untilStep(a, b, c))
				}
				if s, err := safeSeq(a, c, b); err != nil || s != seq(a, c, b) {
					t.Errorf("seq %d %d %d = %q, %v; sprig %q", a, c, b, s, err, seq(a, c, b))
				}
			}
			if s, err := safeSeq(a, b); err != nil || s != seq(a, b) {
				t.Errorf("seq %d %d = %q, %v; sprig %q", a, b, s, err, seq(a, b))
			}
		}
		if s, err := safeSeq(a); err != nil || s != seq(a) {
			t.Errorf("seq %d = %q, %v; sprig %q", a, s, err, seq(a))
		}
	}
}
