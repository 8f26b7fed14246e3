// Package templates holds the template files shipped with the sidecar, embedded in the binary:
// the seed's example (templates.conf), the endpoint templates of the design thread with the
// default "subscriber" and "anonymous" templates (endpoints.conf), and the dialplan
// (extensions.conf). "sidecar check" and "sidecar render" use them when no -templates
// directory is given, and "sidecar serve" runs on them by default. docs/templates.md
// documents every shipped template.
package templates

import "embed"

// FS holds every top-level *.conf file of this directory.
//
//go:embed *.conf
var FS embed.FS
