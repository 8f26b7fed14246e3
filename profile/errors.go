package profile

import (
	"errors"
	"fmt"

	"github.com/sidecar-voip/sidecar/internal/dialect"
)

// ErrUnknownTemplate reports a template name that no section of the Set defines (or an empty
// name given to Build).
var ErrUnknownTemplate = errors.New("unknown template")

// ErrAbstractTemplate reports a template declared with (!): it only serves as a parent and
// can never build a profile by itself.
var ErrAbstractTemplate = errors.New("abstract template")

// ErrInvalidValue reports a value that does not fit its field: a bad codec name, a location
// that is not a SIP URI, a template name with forbidden characters, an expansion that failed.
// It is always wrapped with the detail.
var ErrInvalidValue = errors.New("invalid value")

// FieldError is a failure to build one field of a profile: it names the template, the key
// and the file:line where the key's value was written. It matches ErrInvalidValue with
// errors.Is, as well as the underlying cause (for example safetmpl.ErrTooLong).
type FieldError struct {
	// Template is the template being built.
	Template string
	// Key is the template key whose value failed, for example "location".
	Key string
	// Pos is where the failing value was written (possibly in a parent template).
	Pos dialect.Pos
	// Err is the cause.
	Err error
}

// Error formats the failure as "file:line: template "name", key: cause".
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: template %q, %s: %v", e.Pos, e.Template, e.Key, e.Err)
}

// Unwrap returns ErrInvalidValue and the cause, so errors.Is matches either.
func (e *FieldError) Unwrap() []error { return []error{ErrInvalidValue, e.Err} }
