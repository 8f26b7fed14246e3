package dialplan

import (
	"strings"

	"github.com/sidecar-voip/sidecar/profile"
)

// minSecretLen is the shortest PIN that masking looks for: shorter values would mask
// unrelated arguments (a 1-digit PIN matches most numbers) and are too weak to protect.
const minSecretLen = 3

// mask is what a hidden argument reads as.
const mask = "****"

// pinValues returns the caller's and callee's mailbox PINs that are long enough to look for.
func pinValues(ps ...*profile.Profile) []string {
	var out []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		if v := profile.RevealSecret(p.MailboxPIN); len(v) >= minSecretLen {
			out = append(out, v)
		}
	}
	return out
}

// containsSecret reports whether s contains one of secrets.
func containsSecret(s string, secrets []string) bool {
	for _, v := range secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// maskSecrets returns args with every argument that contains one of secrets replaced by
// "****" (a copy when any is).
func maskSecrets(args, secrets []string) []string {
	out := args
	copied := false
	for i, a := range args {
		if !containsSecret(a, secrets) {
			continue
		}
		if !copied {
			out, copied = append([]string(nil), args...), true
		}
		out[i] = mask
	}
	return out
}

// maskTarget masks the parts of a jump target that contain a secret.
func maskTarget(t Target, secrets []string) Target {
	m := maskSecrets([]string{t.Context, t.Exten, t.Priority}, secrets)
	return Target{Context: m[0], Exten: m[1], Priority: m[2]}
}

// redactedError is an error whose message has secrets replaced by "****"; Unwrap keeps the
// original for errors.Is and errors.As.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	s := e.err.Error()
	for _, v := range e.secrets {
		s = strings.ReplaceAll(s, v, mask)
	}
	return s
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its message never shows one of secrets.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 || !containsSecret(err.Error(), secrets) {
		return err
	}
	return &redactedError{err: err, secrets: secrets}
}
