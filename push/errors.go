package push

import (
	"errors"
	"fmt"
)

// Sentinel errors of the Store; the admin API maps them to HTTP statuses.
var (
	// ErrBadRequest reports a body, name or TTL the Store cannot take (400).
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound reports a pushed template that does not exist (404).
	ErrNotFound = errors.New("no such pushed template")
	// ErrConflict reports a change that collides with the template files: a push named as a
	// file template, or a DELETE or PATCH of a file template (409).
	ErrConflict = errors.New("conflict")
	// ErrFull reports a push past Options.MaxTemplates (507 would do; the API answers 409).
	ErrFull = errors.New("too many pushed templates")
)

// InvalidError is a change whose new template set does not compile: Err is the load error,
// one "file:line: message" per line (pushed templates are the files "pushed:NAME").
type InvalidError struct {
	Err error
}

func (e *InvalidError) Error() string { return fmt.Sprintf("compile templates: %v", e.Err) }

// Unwrap returns the load error.
func (e *InvalidError) Unwrap() error { return e.Err }
