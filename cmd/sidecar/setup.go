package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/routing"
	"github.com/sidecar-voip/sidecar/voicemail"
)

// systemVoicemailDir is the mailbox store of a packaged or root-started sidecar.
const systemVoicemailDir = "/var/lib/sidecar/voicemail"

// voicemailDir picks the mailbox store's directory: [voicemail] dir, else
// /var/lib/sidecar/voicemail when it can be created and written, else voicemail under the
// user's state directory ($XDG_STATE_HOME/sidecar, else ~/.local/state/sidecar).
func voicemailDir(cfg *config.Config) (string, error) {
	if cfg.Voicemail.Dir != "" {
		return cfg.Voicemail.Dir, nil
	}
	if writable(systemVoicemailDir) {
		return systemVoicemailDir, nil
	}
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("voicemail directory: %s is not writable and no home directory: %w", systemVoicemailDir, err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "sidecar", "voicemail"), nil
}

// writable reports whether dir exists or can be created, and a file can be created in it.
func writable(dir string) bool {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// loadConfig reads the settings file, or returns the embedded defaults when path is "".
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// templatesDir picks the template directory: the -templates flag, else the settings file's
// [general] templates, else "" (the shipped templates embedded in the binary).
func templatesDir(flagDir string, cfg *config.Config) string {
	if flagDir != "" {
		return flagDir
	}
	return cfg.General.Templates
}

// load is the one loading path of serve, check and render: the one application registry
// (app.NewRegistry, with the operator's sounds of [rtp] sounds and the [voicemail] settings),
// then routing.Load of the template directory dir ("" for the shipped templates). log
// receives the applications' warnings; nil discards them. vm is the mailbox store (serve's;
// check and render pass nil: the apps' load-time checks need none), stats its counters.
func load(cfg *config.Config, dir string, log *slog.Logger, vm voicemail.Store, stats *app.VoicemailStats) (*routing.Bundle, routing.Diagnostics) {
	opts, err := loadOptions(cfg, dir, log, vm, stats)
	if err != nil {
		return nil, routing.Diagnostics{Errors: dialect.Errors{{Msg: err.Error()}}}
	}
	return routing.Load(opts)
}

// loadOptions is what load loads: the settings, the directory and the one application
// registry. serve keeps it to load again (pushed templates, reloads).
func loadOptions(cfg *config.Config, dir string, log *slog.Logger, vm voicemail.Store, stats *app.VoicemailStats) (routing.Options, error) {
	var sounds fs.FS
	if cfg.RTP.Sounds != "" {
		sounds = os.DirFS(cfg.RTP.Sounds)
	}
	opts := app.DefaultVoicemailOptions()
	v := cfg.Voicemail
	opts.Limits.MaxMessages, opts.Limits.MaxDuration, opts.Limits.MinDuration = v.MaxMsg, v.MaxDuration, v.MinDuration
	opts.Limits.MaxSilence, opts.SilenceThreshold = v.MaxSilence, v.SilenceThreshold
	opts.MaxLoginAttempts, opts.Lockout = v.MaxLoginAttempts, v.Lockout
	if v.Unavailable == "503" {
		opts.Unavailable = app.Unavailable503
	}
	reg, err := app.NewRegistry(app.Deps{Sounds: sounds, Log: log, Voicemail: vm, VoicemailOptions: &opts, VoicemailStats: stats})
	if err != nil {
		return routing.Options{}, err
	}
	return routing.Options{Config: cfg, Dir: dir, Apps: reg}, nil
}
