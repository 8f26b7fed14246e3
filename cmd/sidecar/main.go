// Command sidecar is the SIP feature and media server that runs next to a Kamailio node.
//
// Subcommands: serve, check, render, push, templates, voicemail, version. This package only wires packages together.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// command is one subcommand: it gets its arguments (after the subcommand name) and the
// standard streams, and returns the process exit code.
type command struct {
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the SIP service", runServe},
		"check":     {"load and validate the template files", runCheck},
		"render":    {"show the profiles and dialplan a SIP request would get", runRender},
		"voicemail": {"migrate, export or import the mailbox store", runVoicemail},
		"version":   {"print the version", runVersion},
		"push":      {"push the sections of a template file to a running sidecar's admin API", runPush},
		"templates": {"templates export DIR: copy the shipped templates to start a custom directory", runTemplates},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return 2
	}
	c, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
			usage(stdout, cmds)
			return 0
		}
		fmt.Fprintf(stderr, "sidecar: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(args[1:], stdin, stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: sidecar <command> [flags]")
	for _, name := range []string{"serve", "check", "render", "push", "templates", "voicemail", "version"} {
		fmt.Fprintf(w, "  %-9s %s\n", name, cmds[name].summary)
	}
}

// parseFlags parses a subcommand's flags. ok is false when the command must stop with code:
// 0 after -h or -help (the flag set printed its usage), 2 on a bad flag.
func parseFlags(fl *flag.FlagSet, args []string) (code int, ok bool) {
	err := fl.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		return 0, false
	}
	return 2, false
}
