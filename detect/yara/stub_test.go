//go:build !cgo || noyara

package yara

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStubSaysCompiledOut(t *testing.T) {
	assert.False(t, Available)
	r, errs := Compile([]string{"testdata/rules"}, CompileOptions{})
	assert.Nil(t, r)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrCompiledOut)
	_, err := NewScanner(r, ScannerOptions{})
	assert.ErrorIs(t, err, ErrCompiledOut)
	var s *Scanner
	_, err = s.ScanBytes(context.Background(), nil, Externals{})
	assert.ErrorIs(t, err, ErrCompiledOut)
}
