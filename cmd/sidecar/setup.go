package main

import (
	"io/fs"
	"log/slog"
	"os"

	"github.com/sidecar-voip/sidecar/app"
	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/internal/dialect"
	"github.com/sidecar-voip/sidecar/routing"
)

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
// (app.NewRegistry, with the operator's sounds of [rtp] sounds), then routing.Load of the
// template directory dir ("" for the shipped templates). log receives the applications'
// warnings; nil discards them.
func load(cfg *config.Config, dir string, log *slog.Logger) (*routing.Bundle, routing.Diagnostics) {
	reg, err := registry(cfg, log)
	if err != nil {
		return nil, routing.Diagnostics{Errors: dialect.Errors{{Msg: err.Error()}}}
	}
	return routing.Load(routing.Options{Config: cfg, Dir: dir, Apps: reg})
}

// registry is the one application registry, with the operator's sounds of [rtp] sounds.
func registry(cfg *config.Config, log *slog.Logger) (*dialplan.Registry, error) {
	var sounds fs.FS
	if cfg.RTP.Sounds != "" {
		sounds = os.DirFS(cfg.RTP.Sounds)
	}
	return app.NewRegistry(app.Deps{Sounds: sounds, Log: log})
}
