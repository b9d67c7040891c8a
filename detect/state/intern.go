package state

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
	ownStrings([]*string{&p.Hashes, &p.OriginalFileName, &p.Company, &p.Description, &p.Product, &p.FileVersion}, nil, "")
	f.m[*p] = p
	return p
}
