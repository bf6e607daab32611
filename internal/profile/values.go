package profile

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/derrors"
)

// Attribute values are kept as DynamoDB document values, so they follow
// DynamoDB's rules: a number has at most 38 significant digits and is 0
// or of magnitude 1e-130 to 9.99…e125; a map key is never empty; a document
// nests at most 32 levels, of which the item and the attributes map use
// two. Anything else would be refused by the store, after validation had
// said yes.
const (
	MaxNumberDigits = 38
	minNumberExp    = -130
	maxNumberExp    = 125
	// MaxAttributeDepth bounds how deeply objects and arrays nest inside
	// attributes.
	MaxAttributeDepth = 30
)

// maxValueErrors bounds the field errors one attributes document adds.
const maxValueErrors = 20

// CheckAttributes reports the values of attributes (or of any document
// kept the same way) that the store could not keep: empty keys, numbers
// out of range, nesting too deep, strings that are not UTF-8. path names
// the document ("attributes", "profiles[3].attributes").
func CheckAttributes(f *derrors.Fields, path string, attributes map[string]any) {
	n := len(*f)
	checkValue(f, n, path, attributes, 0)
}

func checkValue(f *derrors.Fields, start int, path string, v any, depth int) {
	if len(*f)-start >= maxValueErrors {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if depth > MaxAttributeDepth {
			f.Add(path, "nests more than %d levels deep", MaxAttributeDepth)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			switch {
			case k == "":
				f.Add(path, "must not have an empty key")
			case !utf8.ValidString(k):
				f.Add(path, "must not have a key that is not UTF-8")
			default:
				checkValue(f, start, path+"."+k, v[k], depth+1)
			}
		}
	case []any:
		if depth > MaxAttributeDepth {
			f.Add(path, "nests more than %d levels deep", MaxAttributeDepth)
			return
		}
		for i, e := range v {
			checkValue(f, start, fmt.Sprintf("%s[%d]", path, i), e, depth+1)
		}
	case json.Number:
		if msg := checkNumber(string(v)); msg != "" {
			f.Add(path, "%s", msg)
		}
	case float64:
		if msg := checkNumber(strconv.FormatFloat(v, 'g', -1, 64)); msg != "" {
			f.Add(path, "%s", msg)
		}
	case string:
		if !utf8.ValidString(v) {
			f.Add(path, "must be valid UTF-8")
		}
	case nil, bool, int, int64:
	default:
		f.Add(path, "must be a JSON value, not %T", v)
	}
}

// checkNumber says what is wrong with a JSON number for the store, or "".
// Leading and trailing zeros do not count as digits, as in DynamoDB.
func checkNumber(s string) string {
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e < -10000 || e > 10000 {
			return "must be of magnitude 1e-130 to 9.99e125, or 0"
		}
		mant, exp = s[:i], e
	}
	mant = strings.TrimPrefix(strings.TrimPrefix(mant, "-"), "+")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	exp -= len(frac) // the value is digits × 10^exp
	trimmed := strings.TrimLeft(digits, "0")
	if trimmed == "" {
		return "" // zero
	}
	sig := strings.TrimRight(trimmed, "0")
	exp += len(trimmed) - len(sig)
	if len(sig) > MaxNumberDigits {
		return fmt.Sprintf("must have at most %d significant digits", MaxNumberDigits)
	}
	// The magnitude's decimal exponent: that of the first digit.
	if top := exp + len(sig) - 1; top < minNumberExp || top > maxNumberExp {
		return "must be of magnitude 1e-130 to 9.99e125, or 0"
	}
	return ""
}
