package mutant

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env is one tenant of the API under test.
type Env struct {
	// Call sends a request as the tenant.
	Call Caller
	// State digests everything stored and sent: equal digests before and
	// after a refused request prove it stored and sent nothing.
	State func() (string, error)
	// Values are fixture values the API cannot make ($token).
	Values map[string]string
}

// Target is the API under test.
type Target struct {
	// New returns a fresh tenant (on a fresh store, where that is cheap).
	New func() (Env, error)
	// FreshPerSeed gives every seed a fresh tenant and fixture, not only
	// those that ask for one (Request.Own).
	FreshPerSeed bool
	// Now is the clock fixtures are made with.
	Now time.Time
}

// Options bound a run.
type Options struct {
	// Seed makes the run reproducible.
	Seed uint64
	// PerSeed is the number of mutants of each seed request.
	PerSeed int
	// Budget bounds the run (0: none), shared by the seeds (each gets
	// what is left over the seeds left), so a slow machine tries fewer
	// mutants of every route rather than none of the last ones;
	// Report.Tried says how many were tried.
	Budget time.Duration
}

// OptionsFromEnv returns def with HERALD_MUTANT_SEED and
// HERALD_MUTANTS_PER_SEED applied, to explore beyond the fixed run
// (HERALD_MUTANT_SEED=$RANDOM go test -run Mutants ./internal/httpapi).
func OptionsFromEnv(def Options) Options {
	if n, err := strconv.ParseUint(os.Getenv("HERALD_MUTANT_SEED"), 10, 64); err == nil {
		def.Seed = n
	}
	if n, err := strconv.Atoi(os.Getenv("HERALD_MUTANTS_PER_SEED")); err == nil && n > 0 {
		def.PerSeed, def.Budget = n, 0
	}
	return def
}

// Report counts what a run tried and found.
type Report struct {
	Tried, Accepted, Refused, ServerErrors int
	// Failures describe each 5xx, each refused request that stored or
	// sent something, and each error body not in the documented shape.
	Failures []string
	Elapsed  time.Duration
}

// maxFailures bounds the failures a report lists.
const maxFailures = 50

func (r *Report) fail(format string, args ...any) {
	if len(r.Failures) < maxFailures {
		r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
	}
}

// Run sends opts.PerSeed mutants of every seed to target. Seeds share one
// tenant and fixture unless they ask for their own (Request.Own) or the
// target gives every seed its own (FreshPerSeed).
func Run(target Target, seeds []Request, opts Options) (rep Report, err error) {
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	newFixture := func() (Env, *Fixture, error) {
		env, err := target.New()
		if err != nil {
			return env, nil, err
		}
		fx, err := NewFixture(env.Call, target.Now, env.Values)
		return env, fx, err
	}
	var shared Env
	var sharedFx *Fixture
	if !target.FreshPerSeed {
		if shared, sharedFx, err = newFixture(); err != nil {
			return rep, err
		}
	}
	for i, seed := range seeds {
		env, fx := shared, sharedFx
		if seed.Own || len(seed.Before) > 0 || target.FreshPerSeed {
			if env, fx, err = newFixture(); err != nil {
				return rep, err
			}
		}
		if err := fx.Prepare(env.Call, seed); err != nil {
			return rep, err
		}
		state, err := env.State()
		if err != nil {
			return rep, err
		}
		m := New(opts.Seed + uint64(i))
		// This seed's share: what is left, spread over the seeds left.
		seedStart, share := time.Now(), (opts.Budget-time.Since(start))/time.Duration(len(seeds)-i)
		for k := 0; k < opts.PerSeed; k++ {
			if opts.Budget > 0 && time.Since(seedStart) > share {
				break
			}
			req := fx.Bind(m.Mutate(seed))
			where := fmt.Sprintf("%s seed %d mutant %d (%s)", seed.Route, i, k, m.Describe())
			status, body, err := env.Call(req)
			if err != nil {
				return rep, fmt.Errorf("%s: %w", where, err)
			}
			rep.Tried++
			before := state
			if state, err = env.State(); err != nil {
				return rep, err
			}
			switch {
			case status >= 500:
				rep.ServerErrors++
				rep.fail("%s: %d %.300s", where, status, body)
				continue
			case status < 400:
				rep.Accepted++
				continue
			}
			rep.Refused++
			if state != before {
				rep.fail("%s: refused with %d, yet something was stored or sent: %.300s", where, status, body)
			}
			if msg := checkErrorShape(status, body); msg != "" {
				rep.fail("%s: %s: %.300s", where, msg, body)
			}
		}
	}
	return rep, nil
}

// checkErrorShape says how body strays from the documented error shape
// ({type, title, status, detail, errors[{field, message}], report}), or "".
func checkErrorShape(status int, body []byte) string {
	var e struct {
		Type   string          `json:"type"`
		Title  string          `json:"title"`
		Status int             `json:"status"`
		Report json.RawMessage `json:"report"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "the error body is not a JSON object"
	}
	var gw struct {
		Message string `json:"message"`
	}
	if e.Type == "" && json.Unmarshal(body, &gw) == nil && gw.Message != "" && (status == 403 || status == 404 || status == 413) {
		return "" // API Gateway's own answer: no route matched, the authorizer denied, the body is too large
	}
	switch {
	case !strings.HasPrefix(e.Type, "urn:herald:error:") || e.Title == "":
		return "the error body lacks its type or title"
	case e.Status != status:
		return fmt.Sprintf("the error body says status %d", e.Status)
	case len(e.Report) == 0 || e.Report[0] != '{':
		return "the error body lacks its report"
	case e.Type == "urn:herald:error:invalid-request" && len(e.Errors) == 0:
		return "a 400 names no field"
	}
	for _, fe := range e.Errors {
		if fe.Field == "" || fe.Message == "" {
			return "a field error lacks its field or message"
		}
	}
	return ""
}
