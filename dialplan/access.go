package dialplan

import (
	"github.com/sidecar-voip/sidecar/internal/safetmpl"
	"github.com/sidecar-voip/sidecar/profile"
	"github.com/sidecar-voip/sidecar/request"
)

// dataAccessors is the compiler's typed view of *Data (safetmpl.Accessors): arguments read
// .Context, .Exten, .HasCaller/.HasCallee, .Var "NAME", the parties' plain fields
// (.Callee.Location, .Caller.MailboxID, ...) and, through profile.RequestAccessors, the
// request's fields and methods without reflection. The rest (the mailbox PIN, a Secret that
// prints "****"; whole profiles; .Request) is left to text/template.
var dataAccessors safetmpl.Accessors = accessors{}

type accessors struct{}

var requestAccessors = profile.RequestAccessors(func(x any) *request.Request {
	if d, ok := x.(*Data); ok && d != nil {
		return d.Request
	}
	return nil
})

func asData(x any) (*Data, bool) {
	d, ok := x.(*Data)
	return d, ok && d != nil
}

func stringField(f func(d *Data) string) (safetmpl.Field, bool) {
	return safetmpl.Field{String: func(x any) (string, bool) {
		d, ok := asData(x)
		if !ok {
			return "", false
		}
		return f(d), true
	}}, true
}

func boolField(f func(d *Data) bool) (safetmpl.Field, bool) {
	return safetmpl.Field{Bool: func(x any) (bool, bool) {
		d, ok := asData(x)
		if !ok {
			return false, false
		}
		return f(d), true
	}}, true
}

// Field implements safetmpl.Accessors.
func (accessors) Field(path, args []string) (safetmpl.Field, bool) {
	if len(args) > 0 {
		if len(path) == 1 && path[0] == "Var" && len(args) == 1 {
			name := args[0]
			return stringField(func(d *Data) string { return d.call.Var(name) })
		}
		return requestAccessors.Field(path, args)
	}
	switch len(path) {
	case 1:
		switch path[0] {
		case "Context":
			return stringField(func(d *Data) string { return d.Context })
		case "Exten":
			return stringField(func(d *Data) string { return d.Exten })
		case "HasCaller":
			return boolField(func(d *Data) bool { return d.HasCaller })
		case "HasCallee":
			return boolField(func(d *Data) bool { return d.HasCallee })
		}
	case 2:
		if path[0] == "Caller" || path[0] == "Callee" {
			party := func(d *Data) *profile.Profile { return d.Caller }
			if path[0] == "Callee" {
				party = func(d *Data) *profile.Profile { return d.Callee }
			}
			switch path[1] {
			case "Template":
				return stringField(func(d *Data) string { return party(d).Template })
			case "User":
				return stringField(func(d *Data) string { return party(d).User })
			case "Context":
				return stringField(func(d *Data) string { return party(d).Context })
			case "MailboxID":
				return stringField(func(d *Data) string { return party(d).MailboxID })
			case "Location":
				return stringField(func(d *Data) string { return party(d).Location })
			case "Language":
				return stringField(func(d *Data) string { return party(d).Language })
			case "MWI":
				return boolField(func(d *Data) bool { return party(d).MWI })
			case "PublishDialogInfo":
				return boolField(func(d *Data) bool { return party(d).PublishDialogInfo })
			}
			return safetmpl.Field{}, false
		}
	}
	return requestAccessors.Field(path, args)
}
