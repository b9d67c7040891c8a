package ecs

import "time"

// An alert renders its event's time three ways (@timestamp, edr.event.time,
// winlog.time_created); these write time.Format's output for those layouts
// directly instead of going through its layout parser. Times in int64
// nanoseconds fall in the years 1677 to 2262, always four digits.

// formatTimestamp renders event time for @timestamp (millisecond precision,
// as Sysmon's UtcTime; the exact time is in winlog.time_created).
func formatTimestamp(ns int64) string {
	return formatTime(ns, 3)
}

// formatRFC3339Nano is time.RFC3339Nano in UTC.
func formatRFC3339Nano(ns int64) string { return formatTime(ns, -1) }

// formatFileTime is event.FormatFileTime (event.FileTimeLayout: 100 ns
// ticks).
func formatFileTime(ns int64) string { return formatTime(ns, 7) }

// formatTime renders ns in UTC as "2006-01-02T15:04:05", a fraction and
// "Z": frac digits of it, truncated, or (frac < 0) up to nine with trailing
// zeros cut and no dot when they all are.
func formatTime(ns int64, frac int) string {
	t := time.Unix(0, ns).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	var b [32]byte
	buf := appendDigits(b[:0], y, 4)
	buf = append(buf, '-')
	buf = appendDigits(buf, int(mo), 2)
	buf = append(buf, '-')
	buf = appendDigits(buf, d, 2)
	buf = append(buf, 'T')
	buf = appendDigits(buf, h, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, mi, 2)
	buf = append(buf, ':')
	buf = appendDigits(buf, s, 2)
	n := t.Nanosecond()
	switch {
	case frac > 0:
		for range 9 - frac {
			n /= 10
		}
		buf = append(buf, '.')
		buf = appendDigits(buf, n, frac)
	case n != 0:
		digits := 9
		for n%10 == 0 {
			n /= 10
			digits--
		}
		buf = append(buf, '.')
		buf = appendDigits(buf, n, digits)
	}
	return string(append(buf, 'Z'))
}

// appendDigits appends v (≥ 0) as exactly width decimal digits.
func appendDigits(dst []byte, v, width int) []byte {
	var b [9]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:width]...)
}
