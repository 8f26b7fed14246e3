package safetmpl

import (
	"errors"
	"fmt"
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
		if step != 0 {
			if err := checkCount((stop - start) / step); err != nil {
				return nil, err
			}
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

// seqLen estimates how many numbers sprig's seq (GNU seq semantics) would produce.
func seqLen(p []int) int {
	abs := func(x int) int {
		if x < 0 {
			return -x
		}
		return x
	}
	switch len(p) {
	case 1:
		return p[0]
	case 2:
		return abs(p[1]-p[0]) + 1
	case 3:
		if p[1] == 0 {
			return 0
		}
		return abs(p[2]-p[0])/abs(p[1]) + 1
	}
	return 0
}
