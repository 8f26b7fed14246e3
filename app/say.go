package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/sidecar-voip/sidecar/dialplan"
)

// maxSayNumber bounds SayNumber's magnitude.
const maxSayNumber = 999_999_999

// digitSound names the prompt of one digit character, "" for characters without one.
func digitSound(r rune) string {
	switch {
	case r >= '0' && r <= '9':
		return "digits/" + string(r)
	case r == '*':
		return "digits/star"
	case r == '#':
		return "digits/hash"
	}
	return ""
}

// parseSayDigits parses SayDigits(digits) into the prompts to play: one per digit (0-9, *
// and #; other characters, such as spaces, + and -, are skipped). Text with no digit at all is
// an error; empty text says nothing. A templated argument (lit[0] false) is skipped. Run and
// Check both call it.
func parseSayDigits(args []string, lit []bool) ([]string, error) {
	if !known(lit, 0) {
		return nil, nil
	}
	s := strings.TrimSpace(args[0])
	var names []string
	for _, r := range s {
		if n := digitSound(r); n != "" {
			names = append(names, n)
		}
	}
	if s != "" && len(names) == 0 {
		return nil, appErrorf("SayDigits", "%q has no digit to say (0-9, * and #)", s)
	}
	return names, nil
}

func checkSayDigits(args []string, lit []bool) error {
	_, err := parseSayDigits(args, lit)
	return err
}

// sayDigits is SayDigits(digits): say each digit (0-9, * and #; other characters are skipped).
func (a *apps) sayDigits(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	names, err := parseSayDigits(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	return a.say(ctx, c, "SayDigits", names)
}

// parseSayNumber parses SayNumber(number[,gender]) into the number; the gender is accepted
// and ignored. A templated number (lit[0] false) is skipped. Run and Check both call it.
func parseSayNumber(args []string, lit []bool) (int, error) {
	if !known(lit, 0) {
		return 0, nil
	}
	s := strings.TrimSpace(args[0])
	n, err := strconv.Atoi(s)
	if err != nil || n > maxSayNumber || n < -maxSayNumber {
		return 0, appErrorf("SayNumber", "%q is not an integer within ±%d", s, maxSayNumber)
	}
	return n, nil
}

func checkSayNumber(args []string, lit []bool) error {
	_, err := parseSayNumber(args, lit)
	return err
}

// sayNumber is SayNumber(number[,gender]): say an integer in English ("one thousand two
// hundred thirty four"); the gender argument is accepted for compatibility and ignored.
func (a *apps) sayNumber(ctx context.Context, c *dialplan.Call, args []string) (dialplan.Result, error) {
	n, err := parseSayNumber(args, nil)
	if err != nil {
		return dialplan.Result{}, err
	}
	return a.say(ctx, c, "SayNumber", NumberSounds(n))
}

func (a *apps) say(ctx context.Context, c *dialplan.Call, app string, names []string) (dialplan.Result, error) {
	m, err := audioOf(ctx, c, app, true)
	if err != nil {
		return dialplan.Result{}, err
	}
	if err := a.playFiles(ctx, m, names); err != nil {
		if hungUp(ctx) {
			return dialplan.Ended(), nil
		}
		return dialplan.Result{}, appErrorf(app, "%w", err)
	}
	return dialplan.Next(), nil
}

// NumberSounds returns the prompts that say n in English, from the digits/ directory:
// 0-19, the tens 20-90, hundred, thousand, million and minus.
func NumberSounds(n int) []string {
	if n == 0 {
		return []string{"digits/0"}
	}
	var out []string
	if n < 0 {
		out = append(out, "digits/minus")
		n = -n
	}
	for _, g := range []struct {
		size int
		word string
	}{{1_000_000, "digits/million"}, {1000, "digits/thousand"}} {
		if n >= g.size {
			out = append(out, below1000(n/g.size)...)
			out = append(out, g.word)
			n %= g.size
		}
	}
	return append(out, below1000(n)...)
}

func below1000(n int) []string {
	var out []string
	if n >= 100 {
		out = append(out, "digits/"+strconv.Itoa(n/100), "digits/hundred")
		n %= 100
	}
	switch {
	case n == 0:
	case n < 20:
		out = append(out, "digits/"+strconv.Itoa(n))
	default:
		out = append(out, "digits/"+strconv.Itoa(n/10*10))
		if n%10 != 0 {
			out = append(out, "digits/"+strconv.Itoa(n%10))
		}
	}
	return out
}
