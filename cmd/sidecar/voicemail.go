package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/sidecar-voip/sidecar/voicemail/fsstore"
	vmopen "github.com/sidecar-voip/sidecar/voicemail/open"
	"github.com/sidecar-voip/sidecar/voicemail/pgstore"
	"github.com/sidecar-voip/sidecar/voicemail/transfer"
)

const voicemailUsage = `usage: sidecar voicemail migrate [-config FILE] [-store URL]
       sidecar voicemail export [-config FILE] [-store URL] DIR
       sidecar voicemail import [-config FILE] [-store URL] DIR

migrate  creates or upgrades the PostgreSQL schema of [voicemail] store (serve does it too)
export   copies every mailbox of the configured store into the directory store DIR
import   copies every mailbox of the directory store DIR into the configured store
Copies keep message numbers, folders, flags, envelopes and greetings; running one again
copies nothing twice. The configured store is [voicemail] store, else [voicemail] dir.`

// runVoicemail implements "sidecar voicemail migrate|export|import". Exit status: 0 done,
// 1 failed (or a message not copied because its number is taken), 2 usage.
func runVoicemail(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "migrate" && args[0] != "export" && args[0] != "import") {
		fmt.Fprintln(stderr, voicemailUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	sub := args[0]
	fl := flag.NewFlagSet("voicemail "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", "", "settings `FILE` (default: the embedded defaults)")
	storeURL := fl.String("store", "", "the store `URL` (default: [voicemail] store of the settings)")
	fl.Usage = func() { fmt.Fprintln(stderr, voicemailUsage); fl.PrintDefaults() }
	if code, ok := parseFlags(fl, args[1:]); !ok {
		return code
	}
	if (sub == "migrate") != (fl.NArg() == 0) || fl.NArg() > 1 {
		fl.Usage()
		return 2
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *storeURL == "" {
		*storeURL = cfg.Voicemail.Store
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sidecar voicemail %s: %v\n", sub, err)
		return 1
	}
	if sub == "migrate" {
		if !vmopen.IsDatabase(*storeURL) {
			return fail(errors.New("no postgres:// store configured ([voicemail] store or -store); the directory store has no schema"))
		}
		s, err := pgstore.Open(ctx, *storeURL, pgstore.Options{NoMigrate: true})
		if err != nil {
			return fail(err)
		}
		defer s.Close()
		applied, err := pgstore.Migrate(ctx, s.Pool())
		if err != nil {
			return fail(err)
		}
		v, err := pgstore.SchemaVersion(ctx, s.Pool())
		if err != nil {
			return fail(err)
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "voicemail schema is current: version %d\n", v)
		} else {
			fmt.Fprintf(stdout, "voicemail schema migrated to version %d (applied %v)\n", v, applied)
		}
		return 0
	}
	var dir string
	if !vmopen.IsDatabase(*storeURL) {
		if dir, err = voicemailDir(cfg); err != nil {
			return fail(err)
		}
	}
	configured, where, err := vmopen.Open(ctx, *storeURL, dir, nil)
	if err != nil {
		return fail(err)
	}
	defer configured.Close()
	local, err := fsstore.Open(fl.Arg(0))
	if err != nil {
		return fail(err)
	}
	defer local.Close()
	var rep transfer.Report
	if sub == "export" {
		rep, err = transfer.Copy(ctx, configured, local)
		fmt.Fprintf(stdout, "exported %s to %s: ", where, fl.Arg(0))
	} else {
		rep, err = transfer.Copy(ctx, local, configured)
		fmt.Fprintf(stdout, "imported %s into %s: ", fl.Arg(0), where)
	}
	fmt.Fprintf(stdout, "%d mailboxes, %d messages copied, %d already there, %d greetings\n", rep.Mailboxes, rep.Messages, rep.Unchanged, rep.Greetings)
	for _, c := range rep.Conflicts {
		fmt.Fprintln(stdout, "not copied:", c)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}
