package profile

import (
	"testing"

	"github.com/sidecar-voip/sidecar/internal/safetmpl"
)

// sameAsReference fails the test when v's Execute (compiled when the compiler supports v)
// and its Reference (text/template) disagree over data: the same output, the same error.
func sameAsReference(t testing.TB, v safetmpl.Value, data any, limit int) {
	t.Helper()
	got, err := v.Execute(data, limit)
	want, errRef := v.Reference(data, limit)
	if got != want || (err == nil) != (errRef == nil) || err != nil && err.Error() != errRef.Error() {
		t.Fatalf("%q (compiled %v): got %q, %v; text/template %q, %v", v.Text(), v.Compiled(), got, err, want, errRef)
	}
}
