package ecs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// YARA snippets: text as is (cut at a character boundary), binary with
// its non-printable bytes as \xNN and backslashes doubled.
func TestYARASnippet(t *testing.T) {
	assert.Equal(t, `C:\Windows`, yaraSnippet([]byte(`C:\Windows`)))
	assert.Equal(t, `MZ\x90\x00 a\\b\xff`, yaraSnippet([]byte("MZ\x90\x00 a\\b\xff")))
	// "x" then é (2 bytes each): 80 bytes end inside a character
	text := strings.Repeat("é", 50)
	assert.Equal(t, strings.Repeat("é", 40)+truncatedMarker, yaraSnippet([]byte("x" + text)[1:]))
	assert.Equal(t, "x"+strings.Repeat("é", 39)+truncatedMarker, yaraSnippet([]byte("x"+text)))
	assert.Equal(t, strings.Repeat(`\x00`, maxYARASnippet)+truncatedMarker, yaraSnippet(make([]byte, 100)))
}
