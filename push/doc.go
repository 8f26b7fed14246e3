// Package push keeps the templates pushed over the admin API: Kamailio (or an operator) PUTs a
// caller's profile as one section of the template dialect, or as JSON fields, onto the sidecar
// it picked, routes the call there, and DELETEs it later (or lets its TTL expire it).
//
// A Store holds the pushed templates in memory, over the template files: every change
// compiles the files and the whole new pushed set together, aside, through a Rebuilder
// (exactly as a file reload does: a bad push is refused with its "pushed:NAME:line: message"
// and the running set stays), and swaps the result in atomically; calls already routed keep
// the bundle they started with. Changes are serialised. A pushed template may inherit from
// file templates and file templates from it; a pushed name that a file already defines is
// refused (ErrConflict): the operator's files are never overridden over the network.
//
// By default pushes live in memory only, like a cache the proxy fills again on its next call:
// a restart forgets them. With a directory (Options.Dir, [admin] push-dir) each push is also
// written there atomically (temporary file, fsync, rename) and read back at start.
package push
