package main

import (
	"errors"
	"io/fs"

	"github.com/sidecar-voip/sidecar/config"
	"github.com/sidecar-voip/sidecar/dialplan"
	"github.com/sidecar-voip/sidecar/internal/dialect"
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

// appRegistry is every dialplan application the sidecar offers. serve, check and render use
// the same registry, so a dialplan that checks clean is one serve accepts.
func appRegistry() (*dialplan.Registry, error) {
	reg := dialplan.NewRegistry()
	if err := dialplan.RegisterSignalling(reg); err != nil {
		return nil, err
	}
	return reg, nil
}

// loadPlan compiles the dialplan (extensions.conf) of the template file system.
func loadPlan(fsys fs.FS) (*dialplan.Plan, dialect.Errors, dialect.Errors) {
	reg, err := appRegistry()
	if err != nil {
		return nil, dialect.Errors{{Msg: err.Error()}}, nil
	}
	plan, err := dialplan.LoadFS(fsys, ".", reg)
	if err != nil {
		return nil, asDiagnostics(err), nil
	}
	return plan, nil, plan.Warnings()
}

// asDiagnostics turns a load error into positioned diagnostics for printing.
func asDiagnostics(err error) dialect.Errors {
	var de dialect.Errors
	if errors.As(err, &de) {
		return de
	}
	var pe dialplan.Errors
	if errors.As(err, &pe) {
		out := make(dialect.Errors, 0, len(pe))
		for _, e := range pe {
			out = append(out, &dialect.Error{Pos: e.Pos, Msg: e.Err.Error()})
		}
		return out
	}
	return dialect.Errors{{Msg: err.Error()}}
}
