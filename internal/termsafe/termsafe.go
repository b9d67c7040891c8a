// Package termsafe makes text taken from untrusted data (rule files, host
// names, event fields, file names) safe to print on a terminal: control
// bytes cannot move the cursor, retitle the window or hide text, and a
// 1 MB "line" does not flood the screen. Every human-readable output of
// edr that can carry such text goes through it.
package termsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest line printed as is; longer ones are cut.
const MaxLine = 4096

// String returns s as one safe line: C0 and C1 control bytes, DEL,
// invalid UTF-8 and the Unicode controls that reorder or hide text (bidi
// overrides and isolates, zero-width marks) are escaped as \xNN or
// \uNNNN, and a result longer than MaxLine bytes is cut, ending in
// "…(N bytes)" with N the length of s. Backslashes are not escaped, so
// Windows paths read as they are.
func String(s string) string {
	if len(s) <= MaxLine && clean(s) {
		return s
	}
	return string(appendLine(nil, s))
}

// AppendString appends String(s) to dst.
func AppendString(dst []byte, s string) []byte {
	if len(s) <= MaxLine && clean(s) {
		return append(dst, s...)
	}
	return appendLine(dst, s)
}

// Text is String for each line of a multi-line text: newlines stay, every
// line is escaped and capped on its own.
func Text(s string) string {
	if !strings.Contains(s, "\n") {
		return String(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = String(l)
	}
	return strings.Join(lines, "\n")
}

// clean reports whether s needs no escaping.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			if c >= 0x80 {
				return cleanUTF8(s[i:])
			}
			return false
		}
	}
	return true
}

func cleanUTF8(s string) bool {
	for _, r := range s {
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune: controls, invalid UTF-8 (RuneError from a bad byte) and the
// format characters that change how the rest of the line displays.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r == utf8.RuneError:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
}

func appendLine(dst []byte, s string) []byte {
	start := len(dst)
	for i := 0; i < len(s); {
		if len(dst)-start >= MaxLine {
			return appendCut(dst, len(s))
		}
		c := s[i]
		if c < 0x80 {
			if c < 0x20 || c == 0x7f {
				dst = appendByteEscape(dst, c)
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = appendByteEscape(dst, c)
		case unsafeRune(r):
			dst = append(dst, `\u`...)
			dst = append(dst, pad4(strconv.FormatInt(int64(r), 16))...)
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

func appendByteEscape(dst []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	switch c {
	case '\t':
		return append(dst, `\t`...)
	case '\r':
		return append(dst, `\r`...)
	case '\n':
		return append(dst, `\n`...)
	}
	return append(dst, '\\', 'x', hex[c>>4], hex[c&0xf])
}

func pad4(h string) string {
	return strings.Repeat("0", max(0, 4-len(h))) + h
}

func appendCut(dst []byte, n int) []byte {
	dst = append(dst, "…("...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, " bytes)"...)
}
