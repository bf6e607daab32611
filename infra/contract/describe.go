package contract

import (
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// describe says what is wrong in err without the values that failed (a
// body's strings may be addresses or message text): JSON pointers, schema
// keywords and the reasons kin-openapi gives, with any failing string
// value cut out of them.
func describe(err error, _ []byte) string {
	var parts []string
	walk(err, &parts)
	if len(parts) == 0 {
		return "invalid"
	}
	seen := map[string]bool{}
	var uniq []string
	for _, p := range parts {
		if !seen[p] {
			seen[p] = true
			uniq = append(uniq, p)
		}
	}
	return strings.Join(uniq, "; ")
}

func walk(err error, parts *[]string) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			walk(sub, parts)
		}
	case *openapi3filter.RequestError:
		where := "body"
		if e.Parameter != nil {
			where = fmt.Sprintf("%s parameter %q", e.Parameter.In, e.Parameter.Name)
		}
		if e.Err == nil {
			*parts = append(*parts, where+": "+bounded(e.Reason))
			return
		}
		var sub []string
		walk(e.Err, &sub)
		for _, s := range sub {
			*parts = append(*parts, where+": "+s)
		}
	case *openapi3filter.ResponseError:
		if e.Err == nil {
			*parts = append(*parts, bounded(e.Reason))
			return
		}
		walk(e.Err, parts)
	case *openapi3.SchemaError:
		var verr *jsonschema.ValidationError
		if errors.As(e, &verr) { // the JSON Schema 2020-12 validator's
			leaves(verr, parts)
			return
		}
		reason := e.Reason
		if s, ok := e.Value.(string); ok && len(s) > 2 {
			reason = strings.ReplaceAll(reason, s, "…")
		}
		ptr := "/" + strings.Join(e.JSONPointer(), "/")
		*parts = append(*parts, fmt.Sprintf("at %s: %s (%s)", ptr, bounded(reason), e.SchemaField))
	case *openapi3filter.SecurityRequirementsError:
		*parts = append(*parts, "security requirements not met")
	default:
		if u := errors.Unwrap(err); u != nil {
			walk(u, parts)
			return
		}
		*parts = append(*parts, bounded(err.Error()))
	}
}

// leaves describes the innermost causes of a JSON Schema 2020-12
// validation error: where, which keyword and why, never the value that
// failed (a pattern's or format's message would quote it).
func leaves(verr *jsonschema.ValidationError, parts *[]string) {
	if len(verr.Causes) > 0 {
		for _, c := range verr.Causes {
			leaves(c, parts)
		}
		return
	}
	var why string
	switch k := verr.ErrorKind.(type) {
	case *kind.Pattern:
		why = "does not match pattern " + k.Want
	case *kind.Format:
		why = "is not a valid " + k.Want
	case *kind.Const:
		why = fmt.Sprintf("is not the constant %v", k.Want)
	case *kind.Enum:
		why = fmt.Sprintf("is not one of %v", k.Want)
	default:
		why = verr.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	}
	keyword := strings.Join(verr.ErrorKind.KeywordPath(), "/")
	*parts = append(*parts, fmt.Sprintf("at /%s: %s (%s)", strings.Join(verr.InstanceLocation, "/"), bounded(why), keyword))
}

// bounded keeps a message to one short line.
func bounded(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
