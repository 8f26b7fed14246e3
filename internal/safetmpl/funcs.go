package safetmpl

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
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
	// untilStep and seq are our own, not wrappers: sprig's loops step past the int range
	// ("i += step") and never end when an operand sits near math.MaxInt.
	fm["untilStep"] = safeUntilStep
	fm["seq"] = safeSeq
	return fm
}

func checkCount(n int) error {
	if n > MaxCount || n < -MaxCount {
		return fmt.Errorf("%w: %d > %d", ErrCount, n, MaxCount)
	}
	return nil
}

// count is how many numbers lie between start and stop (stop included when inclusive) in
// steps of step, computed without overflow (operands may come from header values through
// atoi). A step of 0, or one pointing away from stop, gives 0. A count above MaxCount is
// reported as MaxCount+1.
func count(start, stop, step int, inclusive bool) int {
	if step == 0 || (stop != start && (step > 0) != (stop > start)) {
		return 0
	}
	d := new(big.Int).Sub(big.NewInt(int64(stop)), big.NewInt(int64(start)))
	d.Abs(d)
	st := new(big.Int).Abs(big.NewInt(int64(step)))
	q, r := new(big.Int).QuoRem(d, st, new(big.Int))
	switch {
	case inclusive:
		q.Add(q, big.NewInt(1))
	case r.Sign() != 0:
		q.Add(q, big.NewInt(1)) // the last number before stop is a partial step away
	}
	if !q.IsInt64() || q.Int64() > MaxCount {
		return MaxCount + 1
	}
	return int(q.Int64())
}

// progression returns n numbers from start in steps of step. The caller has bounded n by
// count, so start + i*step stays between start and the stop it was counted towards.
func progression(start, step, n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = start + i*step
	}
	return v
}

// safeUntilStep is sprig's untilStep (numbers from start up to, not including, stop) with
// its count bounded and no overflow.
func safeUntilStep(start, stop, step int) ([]int, error) {
	n := count(start, stop, step, false)
	if err := checkCount(n); err != nil {
		return nil, err
	}
	return progression(start, step, n), nil
}

// safeSeq is sprig's seq (GNU seq: "seq LAST", "seq FIRST LAST", "seq FIRST INCREMENT
// LAST", space-separated, LAST included) with its count bounded and no overflow.
func safeSeq(p ...int) (string, error) {
	var start, step, end int
	switch len(p) {
	case 1:
		start, end, step = 1, p[0], 1
		if end < start {
			step = -1
		}
	case 2:
		start, end, step = p[0], p[1], 1
		if end < start {
			step = -1
		}
	case 3:
		start, step, end = p[0], p[1], p[2]
		if (end >= start) != (step > 0) { // sprig: the step must point from start to end
			return "", nil
		}
	default:
		return "", nil
	}
	n := count(start, end, step, true)
	if err := checkCount(n); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, v := range progression(start, step, n) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(v))
	}
	return b.String(), nil
}
