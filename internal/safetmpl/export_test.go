package safetmpl

// RunCompiled runs only the compiled closures of v: ok is false when v is not compiled or its
// compiled run failed (Execute would then run text/template).
func RunCompiled(v Value, data any, limit int) (string, bool) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if v.prog == nil {
		return "", false
	}
	return v.prog.exec(data, limit)
}
