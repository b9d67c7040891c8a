package synth

// expandCtx carries what host-dependent placeholders need.
type expandCtx struct {
	home, user, sid, host, fqdn, path string
	ppid, pargs                       string
	date                              string
}

// expander renders templates into a reused buffer (see templates.go for
// the placeholders). Unknown placeholders are kept literally, so "{" in a
// real value (a registry GUID) passes through.
type expander struct {
	buf []byte
	mem arena
}

func (x *expander) expand(tpl string, r *rng, ctx *expandCtx) string {
	x.buf = x.appendExpand(x.buf[:0], tpl, r, ctx)
	return x.mem.string(x.buf)
}

// appendExpand appends the expansion of tpl to b.
func (x *expander) appendExpand(b []byte, tpl string, r *rng, ctx *expandCtx) []byte {
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		if c != '{' {
			b = append(b, c)
			continue
		}
		j := i + 1
		for j < len(tpl) && isNameChar(tpl[j]) {
			j++
		}
		if j >= len(tpl) || tpl[j] != '}' || j == i+1 {
			b = append(b, c)
			continue
		}
		nb, ok := x.placeholder(b, tpl[i+1:j], r, ctx)
		if !ok {
			b = append(b, c)
			continue
		}
		b = nb
		i = j
	}
	return b
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func (x *expander) placeholder(b []byte, name string, r *rng, ctx *expandCtx) ([]byte, bool) {
	switch name {
	case "word":
		return append(b, words[r.intn(len(words))]...), true
	case "tld":
		return append(b, tlds[r.intn(len(tlds))]...), true
	case "doc":
		return x.appendExpand(b, docNames[r.intn(len(docNames))], r, ctx), true
	case "exe":
		return append(b, exeNames[r.intn(len(exeNames))]...), true
	case "rotexe":
		return append(b, rotExeNames[r.intn(len(rotExeNames))]...), true
	case "EXE":
		return appendUpper(b, exeNames[r.intn(len(exeNames))]), true
	case "svc":
		return append(b, serviceNames[r.intn(len(serviceNames))]...), true
	case "guid":
		return append(b, randGUID(r)[1:37]...), true
	case "GUID":
		return appendUpper(b, randGUID(r)[1:37]), true
	case "url":
		return append(b, "https://www."+words[r.intn(len(words))]+"."+tlds[r.intn(len(tlds))]+"/"+words[r.intn(len(words))]...), true
	}
	if ctx != nil {
		switch name {
		case "home":
			return append(b, ctx.home...), true
		case "user":
			return append(b, ctx.user...), true
		case "sid":
			return append(b, ctx.sid...), true
		case "host":
			return append(b, ctx.host...), true
		case "HOST":
			return appendUpper(b, ctx.host), true
		case "fqdn":
			return append(b, ctx.fqdn...), true
		case "dnsdomain":
			return append(b, dnsDomain...), true
		case "domain":
			return append(b, netbiosDomain...), true
		case "path":
			return append(b, ctx.path...), true
		case "qpath":
			return append(append(append(b, '"'), ctx.path...), '"'), true
		case "ppid":
			return append(b, ctx.ppid...), true
		case "pargs":
			return append(b, ctx.pargs...), true
		case "date":
			return append(b, ctx.date...), true
		}
	} else if name == "dnsdomain" {
		return append(b, dnsDomain...), true
	}
	if n, kind, ok := counted(name); ok {
		switch kind {
		case 'n':
			for k := 0; k < n; k++ {
				d := r.intn(10)
				if k == 0 && d == 0 {
					d = 1 + r.intn(9)
				}
				b = append(b, byte('0'+d))
			}
		case 'h':
			for k := 0; k < n; k++ {
				b = append(b, hexdigits[r.intn(16)])
			}
		case 'H':
			for k := 0; k < n; k++ {
				b = append(b, "0123456789ABCDEF"[r.intn(16)])
			}
		case 'a':
			for k := 0; k < n; k++ {
				b = append(b, "abcdefghijklmnopqrstuvwxyz0123456789"[r.intn(36)])
			}
		}
		return b, true
	}
	return b, false
}

// counted parses nK, hexK, HEXK, alnumK.
func counted(name string) (int, byte, bool) {
	var kind byte
	var digits string
	switch {
	case len(name) > 3 && name[:3] == "hex":
		kind, digits = 'h', name[3:]
	case len(name) > 3 && name[:3] == "HEX":
		kind, digits = 'H', name[3:]
	case len(name) > 5 && name[:5] == "alnum":
		kind, digits = 'a', name[5:]
	case len(name) > 1 && name[0] == 'n':
		kind, digits = 'n', name[1:]
	default:
		return 0, 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, 0, false
		}
		n = n*10 + int(digits[i]-'0')
	}
	return n, kind, n > 0
}

func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 32
		}
		b = append(b, c)
	}
	return b
}

// exeNames: executables named in prefetch, BAM and similar paths.
var exeNames = []string{"chrome.exe", "msedge.exe", "svchost.exe", "explorer.exe", "outlook.exe", "winword.exe", "excel.exe",
	"teams.exe", "onedrive.exe", "backgroundtaskhost.exe", "runtimebroker.exe", "dllhost.exe", "conhost.exe", "cmd.exe",
	"powershell.exe", "taskhostw.exe", "searchapp.exe", "msmpeng.exe", "mpcmdrun.exe", "code.exe", "git.exe", "notepad.exe",
	"smartscreen.exe", "wmiprvse.exe", "consent.exe", "slack.exe", "zoom.exe", "acrobat.exe", "7zfm.exe", "msiexec.exe"}

// rotExeNames are exeNames as UserAssist stores them (ROT13 under the
// {1AC14E77-…} System32 known-folder GUID, itself ROT13-encoded in the
// key path).
var rotExeNames = func() []string {
	out := make([]string, len(exeNames))
	for i, n := range exeNames {
		b := []byte(n)
		for j, c := range b {
			switch {
			case 'a' <= c && c <= 'z':
				b[j] = 'a' + (c-'a'+13)%26
			case 'A' <= c && c <= 'Z':
				b[j] = 'A' + (c-'A'+13)%26
			}
		}
		out[i] = string(b)
	}
	return out
}()
