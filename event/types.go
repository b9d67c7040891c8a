package event

// Type says how a field's value is rendered. Values are always stored as the
// rendered string; the type tells producers (generator, importers, ETW
// decoders) how to render and consumers (Sigma numeric modifiers, ECS
// mapping) how to read.
type Type uint8

const (
	String   Type = iota // free text, as-is ("-" is the Windows "unknown")
	UInt                 // decimal unsigned integer ("4640")
	Int                  // decimal signed integer
	Hex                  // "0x" + lower-case hex, no padding ("0x3e7")
	GUID                 // "{lower-case-8-4-4-4-12}"
	Bool                 // "true" / "false"
	UtcTime              // "2006-01-02 15:04:05.000", UTC, no zone
	SID                  // "S-1-5-18"
	Hashes               // "SHA1=…,MD5=…" upper-case hex
	IP                   // textual IPv4 / IPv6 address
	FileTime             // ISO-8601 with 100 ns precision and "Z" (SYSTEMTIME/FILETIME values)
)

var typeNames = [...]string{"string", "uint", "int", "hex", "guid", "bool", "utctime", "sid", "hashes", "ip", "filetime"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Numeric reports whether values of t compare as numbers.
func (t Type) Numeric() bool { return t == UInt || t == Int || t == Hex }
