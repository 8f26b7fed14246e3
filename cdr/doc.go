// Package cdr writes call records: one JSON line per finished call (Record) to a file or to
// standard output.
//
// A Writer never blocks a call: Write marshals the record and puts it on a bounded queue; a
// single writer goroutine appends the lines, and a full queue drops the record and counts it
// (Stats.Dropped). The file survives logrotate: the writer reopens its path on Reopen (wired
// to SIGUSR1 by NotifyReopen) and on its own when the path no longer names the open file
// (renamed or removed), checked before each batch of lines and every second while idle.
//
// A Record holds no secret: templates are named, never rendered, the dialplan steps are
// listed without their arguments, and a profile's PIN has no accessor to copy it from.
package cdr
