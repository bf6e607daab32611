package address

import (
	"math/rand/v2"
	"net/mail"
	"testing"
)

// checkDotAtoms fails if ValidEmail's fast path accepts what net/mail
// would not parse back to the same bare address.
func checkDotAtoms(t *testing.T, s string) {
	t.Helper()
	if !dotAtoms(s) {
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		t.Errorf("dotAtoms(%q) is true, but net/mail gives %+v, %v", s, a, err)
	}
}

func TestDotAtomsAgreeWithNetMail(t *testing.T) {
	for _, s := range []string{"a@b.c", "first.last@example.com", "a+tag@sub.example.co", "x!#$%&'*+-/=?^_`{|}~@example.com",
		"a..b@c.d", ".a@b.c", "a.@b.c", "a@.b", "a@b.", "a@@b.c", "@b.c", "a@", `"a"@b.c`, "a@[1.2.3.4]", "é@b.c", "a b@c.d", "a@b..c"} {
		checkDotAtoms(t, s)
	}
	// Random strings over the characters an address is made of, and
	// the ones that break one.
	const alphabet = "ab.@-_+!#$%&'*=?^`{|}~ \"()<>[]:;,\\é"
	r := rand.New(rand.NewPCG(1, 2))
	runes := []rune(alphabet)
	for range 200000 {
		b := make([]rune, 1+r.IntN(12))
		for i := range b {
			b[i] = runes[r.IntN(len(runes))]
		}
		checkDotAtoms(t, string(b))
	}
}

func FuzzDotAtomsAgreeWithNetMail(f *testing.F) {
	f.Add("first.last@example.com")
	f.Fuzz(checkDotAtoms)
}
