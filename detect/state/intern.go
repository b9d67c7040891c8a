package state

import "strings"

// fileInterner keeps one copy of each distinct FileInfo a table's
// processes carry (ProcessTable.files): the hashes and version resource of
// an image repeat for every process of it, and were six strings and their
// bytes per process. It is bounded: holding maxFiles, it starts over (the
// processes keep theirs; later ones share new copies), so a host that
// keeps running new images does not grow it without limit. What it holds
// changes no value a process has, only which copy it points to.
type fileInterner struct {
	m map[FileInfo]*FileInfo
}

// maxFiles bounds a fileInterner: far more images than a host's processes
// run at once.
const maxFiles = 4096

// get returns the table's copy of v (its strings owned), nil for no values.
func (f *fileInterner) get(v FileInfo) *FileInfo {
	if v == (FileInfo{}) {
		return nil
	}
	if p, ok := f.m[v]; ok {
		return p
	}
	if f.m == nil || len(f.m) >= maxFiles {
		f.m = make(map[FileInfo]*FileInfo)
	}
	p := new(FileInfo) // not &v: v would escape on every call
	*p = v
	ownStrings([]*string{&p.Hashes, &p.OriginalFileName, &p.Company, &p.Description, &p.Product, &p.FileVersion})
	f.m[*p] = p
	return p
}

// stringInterner keeps one copy of the process strings that repeat across
// a table's processes (ProcessTable.own): its host, the images, users and
// directories, the parent's command line. Bounded like fileInterner: at
// maxStrings it starts over. What it holds changes no value, only which
// copy a process points to.
type stringInterner struct {
	m    map[string]string
	join []byte // joined's buffer
}

// maxStrings bounds a stringInterner.
const maxStrings = 16384

// get returns the interner's copy of s.
func (x *stringInterner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := x.m[s]; ok {
		return v
	}
	return x.add(strings.Clone(s))
}

// getAs returns owned when it equals s (a string of the table's own),
// else the interner's copy of s.
func (x *stringInterner) getAs(s, owned string) string {
	if s == owned {
		return owned
	}
	return x.get(s)
}

// joined returns the interner's copy of prefix\s, or of s when prefix is
// "", building the joined string only when it is not held.
func (x *stringInterner) joined(prefix, s string) string {
	if prefix == "" {
		return x.get(s)
	}
	x.join = append(append(append(x.join[:0], prefix...), '\\'), s...)
	if v, ok := x.m[string(x.join)]; ok { // no allocation for the lookup
		return v
	}
	return x.add(string(x.join))
}

func (x *stringInterner) add(s string) string {
	if x.m == nil || len(x.m) >= maxStrings {
		x.m = make(map[string]string)
	}
	x.m[s] = s
	return s
}
