package memo_test

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/memo"
)

func TestMapLoadsOnceKeepsNoFailureAndStartsAfreshAtItsLimit(t *testing.T) {
	var m memo.Map[string, int]
	loads := 0
	load := func(v int) func() (int, error) { return func() (int, error) { loads++; return v, nil } }
	for range 3 {
		if v, err := m.Get("a", 2, load(1)); err != nil || v != 1 {
			t.Fatalf("Get(a) = %d, %v", v, err)
		}
	}
	if loads != 1 {
		t.Errorf("%d loads of a, want 1", loads)
	}
	if _, err := m.Get("x", 2, func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Error("a failed load: no error")
	}
	if v, _ := m.Get("x", 2, load(7)); v != 7 {
		t.Errorf("after a failed load: %d, want it loaded again", v)
	}
	m.Get("b", 2, load(2)) // the third key: the memo starts again
	loads = 0
	m.Get("a", 2, load(1))
	if loads != 1 {
		t.Errorf("a was kept past the limit")
	}
}
