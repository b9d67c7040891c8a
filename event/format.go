package event

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Renderings of Windows values, as they appear in event XML. Producers use
// the Format functions; importers of foreign renderings (evtx_dump JSON,
// Winlogbeat, NXLog) use Normalize to reach the same strings.

// UtcTimeLayout is Sysmon's UtcTime layout (UTC, no zone suffix).
const UtcTimeLayout = "2006-01-02 15:04:05.000"

// FileTimeLayout is how event XML renders SYSTEMTIME/FILETIME values.
const FileTimeLayout = "2006-01-02T15:04:05.0000000Z"

// FormatUtcTime renders ns since the Unix epoch in Sysmon's UtcTime layout.
func FormatUtcTime(ns int64) string { return time.Unix(0, ns).UTC().Format(UtcTimeLayout) }

// ParseUtcTime parses Sysmon's UtcTime layout (UTC).
func ParseUtcTime(s string) (int64, error) {
	t, err := time.Parse(UtcTimeLayout, s)
	if err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}

// FormatFileTime renders ns since the Unix epoch as event XML renders
// SystemTime attributes and FILETIME values (100 ns precision, "Z").
func FormatFileTime(ns int64) string { return time.Unix(0, ns).UTC().Format(FileTimeLayout) }

// FileTimeToUnixNano converts Windows FILETIME ticks (100 ns since 1601).
func FileTimeToUnixNano(ft uint64) int64 { return (int64(ft) - 116444736000000000) * 100 }

// UnixNanoToFileTime is the inverse of FileTimeToUnixNano.
func UnixNanoToFileTime(ns int64) uint64 { return uint64(ns/100 + 116444736000000000) }

// FormatHex renders "0x" + lower-case hex without padding, as win:HexInt32/64.
func FormatHex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// FormatBool renders win:Boolean.
func FormatBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// FormatGUID renders 16 bytes in Windows GUID byte order (Data1..3 little
// endian) as "{8-4-4-4-12}" lower case.
func FormatGUID(b [16]byte) string {
	var buf [38]byte
	buf[0] = '{'
	le := func(dst []byte, src ...byte) { hex.Encode(dst, src) }
	le(buf[1:9], b[3], b[2], b[1], b[0])
	buf[9] = '-'
	le(buf[10:14], b[5], b[4])
	buf[14] = '-'
	le(buf[15:19], b[7], b[6])
	buf[19] = '-'
	hex.Encode(buf[20:24], b[8:10])
	buf[24] = '-'
	hex.Encode(buf[25:37], b[10:16])
	buf[37] = '}'
	return string(buf[:])
}

var errGUID = errors.New("not a GUID")

// NormalizeGUID accepts a GUID with or without braces in any case and
// returns the Windows XML form "{lower-case}".
func NormalizeGUID(s string) (string, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimSuffix(t, "}"), "{")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return s, errGUID
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '-' && (i == 8 || i == 13 || i == 18 || i == 23) {
			continue
		}
		if !isHex(c) {
			return s, errGUID
		}
	}
	return "{" + strings.ToLower(t) + "}", nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// FormatHashes renders Sysmon's Hashes field from the hashes that are known
// (empty ones are skipped), in Sysmon's order SHA1, MD5, SHA256, IMPHASH.
func FormatHashes(sha1, md5, sha256, imphash string) string {
	var b strings.Builder
	add := func(alg, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(alg)
		b.WriteByte('=')
		b.WriteString(strings.ToUpper(v))
	}
	add("SHA1", sha1)
	add("MD5", md5)
	add("SHA256", sha256)
	add("IMPHASH", imphash)
	return b.String()
}

// ParseHashes splits a Hashes value into algorithm → hex (algorithm upper
// case as written, hex as written). Malformed parts are skipped.
func ParseHashes(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		alg, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && alg != "" && v != "" {
			out[strings.ToUpper(alg)] = v
		}
	}
	return out
}

// Normalize converts a value from a foreign rendering to the Windows XML
// rendering of type t: JSON numbers for win:HexInt become "0x…", GUIDs gain
// braces and lose upper case, booleans become "true"/"false". Values that do
// not parse as the type are returned unchanged (never dropped).
func Normalize(t Type, s string) string {
	switch t {
	case Hex:
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
				return FormatHex(n)
			}
			return s
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return FormatHex(n)
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return FormatHex(uint64(n))
		}
	case GUID:
		if g, err := NormalizeGUID(s); err == nil {
			return g
		}
	case Bool:
		switch strings.ToLower(s) {
		case "true", "1":
			return "true"
		case "false", "0":
			return "false"
		}
	case UInt, Int:
		if strings.HasSuffix(s, ".0") { // JSON floats of integral numbers
			if _, err := strconv.ParseInt(s[:len(s)-2], 10, 64); err == nil {
				return s[:len(s)-2]
			}
		}
	}
	return s
}

// NormalizeName turns a foreign field name into the schema's spelling:
// Defender's "Threat Name" becomes ThreatName.
func NormalizeName(s string) string {
	if strings.IndexByte(s, ' ') < 0 {
		return s
	}
	return strings.ReplaceAll(s, " ", "")
}
