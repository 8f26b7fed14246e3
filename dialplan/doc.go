// Package dialplan is the sidecar's Asterisk-like dialplan: contexts of extensions read from
// extensions.conf, extension patterns (_X. _NXX [1-5]) matched in Asterisk's order, priorities
// and labels, an application registry, and the step runner that drives one call through a
// Channel.
//
// A Plan is compiled once per load: every line is checked, every application looked up, every
// argument split and parsed as a template and dry-run against request.Sample, so mistakes are
// file:line errors before a call arrives. Per call only template execution and the
// applications run. A Plan is immutable and safe for concurrent use; a reload builds a new one.
//
// docs/dialplan.md is the operator's reference.
package dialplan
