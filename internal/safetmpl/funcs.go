package safetmpl

import (
	"errors"
	"fmt"
	"math/big"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// MaxCount bounds every count a template passes to a sprig function that allocates or loops
// in proportion to it (repeat, until, seq, indent, rand*...): an operator's template must not
// turn a header value such as "999999999" into gigabytes or minutes of work.
const MaxCount = DefaultLimit

// ErrCount reports a count above MaxCount.
var ErrCount = errors.New("count too large")

// removed are sprig functions a template must never reach: they read the process environment,
// do network I/O, or burn CPU by design (key generation, password hashing).
var removed = []string{
	"env", "expandenv", "getHostByName",
	"genPrivateKey", "buildCustomCert", "genCA", "genCAWithKey", "genSelfSignedCert",
	"genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
	"bcrypt", "htpasswd", "derivePassword",
}

// Funcs returns a new FuncMap: sprig's text functions without the removed ones, with counts
// bounded by MaxCount. Build it once per load and pass it to every Compile of that load.
func Funcs() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range removed {
		delete(fm, name)
	}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randAscii", "randNumeric"} {
		f := fm[name].(func(int) string)
		fm[name] = func(n int) (string, error) {
			if err := checkCount(n); err != nil {
				return "", err
			}
			return f(n), nil
		}
	}
	randBytes := fm["randBytes"].(func(int) (string, error))
	fm["randBytes"] = func(n int) (string, error) {
		if err := checkCount(n); err != nil {
			return "", err
		}
		return randBytes(n)
	}
	repeat := fm["repeat"].(func(int, string) string)
	fm["repeat"] = func(n int, s string) (string, error) {
		if err := checkCount(n); err != nil {
			return "", err
		}
		if err := checkCount(n * max(len(s), 1)); err != nil {
			return "", err
		}
		return repeat(n, s), nil
	}
	for _, name := range []string{"indent", "nindent"} {
		f := fm[name].(func(int, string) string)
		fm[name] = func(n int, s string) (string, error) {
			if err := checkCount(n); err != nil {
				return "", err
			}
			return f(n, s), nil
		}
	}
	until := fm["until"].(func(int) []int)
	fm["until"] = func(n int) ([]int, error) {
		if err := checkCount(n); err != nil {
			return nil, err
		}
		return until(n), nil
	}
	untilStep := fm["untilStep"].(func(int, int, int) []int)
	fm["untilStep"] = func(start, stop, step int) ([]int, error) {
		if err := checkCount(span(start, stop, step)); err != nil {
			return nil, err
		}
		return untilStep(start, stop, step), nil
	}
	seq := fm["seq"].(func(...int) string)
	fm["seq"] = func(p ...int) (string, error) {
		if err := checkCount(seqLen(p)); err != nil {
			return "", err
		}
		return seq(p...), nil
	}
	return fm
}

func checkCount(n int) error {
	if n > MaxCount || n < -MaxCount {
		return fmt.Errorf("%w: %d > %d", ErrCount, n, MaxCount)
	}
	return nil
}

// span is how many numbers lie from start towards stop in steps of step, computed without
// overflow (operands may come from header values through atoi); a step of 0 or pointing away
// from stop gives 0, as sprig's loops then produce nothing.
func span(start, stop, step int) int {
	if step == 0 || (step > 0) != (stop > start) || stop == start {
		return 0
	}
	d := new(big.Int).Sub(big.NewInt(int64(stop)), big.NewInt(int64(start)))
	d.Abs(d)
	st := new(big.Int).Abs(big.NewInt(int64(step)))
	d.Div(d, st)
	if !d.IsInt64() || d.Int64() > MaxCount {
		return MaxCount + 1
	}
	return int(d.Int64())
}

// seqLen estimates how many numbers sprig's seq (GNU seq semantics: seq LAST, seq FIRST LAST,
// seq FIRST INCREMENT LAST) would produce, without overflow.
func seqLen(p []int) int {
	switch len(p) {
	case 1:
		return p[0]
	case 2:
		dir := 1
		if p[1] < p[0] {
			dir = -1
		}
		return span(p[0], p[1], dir) + 1
	case 3:
		return span(p[0], p[2], p[1]) + 1
	}
	return 0
}
