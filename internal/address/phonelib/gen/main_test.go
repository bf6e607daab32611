package main

import (
	"testing"

	"github.com/heraldhq/herald/internal/gentable"
)

// A library upgrade changes the metadata; phonelib must then be
// regenerated, or it would read numbers with the old plans while its
// tests compare it with the new library.
func TestGeneratedTableIsUpToDate(t *testing.T) {
	gentable.CheckUpToDate(t, "../zz_generated_metadata.go", "internal/address/phonelib/zz_generated_metadata.go", "the library's metadata", "go generate ./internal/address/phonelib", generate)
}

func TestLengthSet(t *testing.T) {
	tests := []struct {
		in      []int32
		want    string
		wantErr bool
	}{
		{nil, "0", false},
		{[]int32{9}, "1<<9", false},
		{[]int32{8, 10, 17}, "1<<8 | 1<<10 | 1<<17", false},
		{[]int32{-1}, "", true},   // the metadata's "no numbers of this type"
		{[]int32{32}, "", true},   // beyond a uint32
		{[]int32{9, 8}, "", true}, // testNumberLength reads the first as the shortest
	}
	for _, tt := range tests {
		got, err := lengthSet(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("lengthSet(%v) = %q, %v; want %q, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
