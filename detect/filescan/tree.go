package filescan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/edr-lab/edr/event"
)

// SkipReason says why a file found under a scanned tree was not checked.
type SkipReason uint8

const (
	SkipTooLarge   SkipReason = iota // over TreeOptions.MaxFileBytes
	SkipUnreadable                   // open, read or directory listing failed
	SkipSpecial                      // FIFO, socket, device: never opened
	SkipSymlinkOut                   // a symbolic link leaving the scanned trees: never followed
	SkipSymlinkIn                    // a symbolic link within them: its target is checked as itself
	numSkipReasons
)

var skipNames = [...]string{"too large", "unreadable", "special file", "symlink out of tree", "symlink within tree"}

func (r SkipReason) String() string {
	if int(r) < len(skipNames) {
		return skipNames[r]
	}
	return "unknown"
}

// TreeOptions configure ScanTree.
type TreeOptions struct {
	// MaxFileBytes: larger files are skipped, never read (0: no limit).
	MaxFileBytes int64
	// Opener reads the files (nil: the Scanner's Opener). Tests inject
	// failures through it.
	Opener Opener
	// Workers check files in parallel (0: one per CPU).
	Workers int
}

// TreeFile is one checked file.
type TreeFile struct {
	Path    string // absolute, symbolic links of the roots resolved
	Size    int64
	ModTime int64 // Unix ns
	Result  Result
}

// Skipped is one file not checked, and why.
type Skipped struct {
	Path   string
	Reason SkipReason
	Size   int64 // for SkipTooLarge
	Err    error // for SkipUnreadable
}

// TreeStats sum up a ScanTree.
type TreeStats struct {
	Files   int   // checked
	Bytes   int64 // read and checked
	Skipped [numSkipReasons]int
}

// ScanTree checks every regular file under roots (files or directories)
// with the hash IOCs and YARA of s, in parallel, and calls file for each
// checked file and skip for each file left out, both in path order, from
// the calling goroutine. Symbolic links are never followed (a root that is
// one is resolved first), so a link cannot lead out of the trees or into a
// loop; special files are never opened. An error is returned only for a
// root that cannot be read at all.
func (s *Scanner) ScanTree(ctx context.Context, roots []string, o TreeOptions, file func(TreeFile), skip func(Skipped)) (TreeStats, error) {
	if o.Opener == nil {
		o.Opener = s.opts.Opener
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	var st TreeStats
	w := &treeWalk{opts: o}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err != nil {
			return st, fmt.Errorf("scan root %s: %w", r, err)
		}
		w.roots = append(w.roots, abs)
	}
	for _, r := range w.roots {
		if err := filepath.WalkDir(r, w.visit); err != nil {
			return st, fmt.Errorf("scan root %s: %w", r, err)
		}
	}
	todo := sortedUnique(w.files, func(f TreeFile) string { return f.Path })
	for _, k := range sortedUnique(w.skipped, func(k Skipped) string { return k.Path }) {
		st.Skipped[k.Reason]++
		skip(k)
	}
	// Workers take files in path order; results are handed out in that
	// order as each becomes ready.
	ready := make([]chan struct{}, len(todo))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s.checkTreeFile(ctx, o, &todo[i])
				close(ready[i])
			}
		}()
	}
	go func() {
		for i := range todo {
			next <- i
		}
		close(next)
	}()
	for i := range todo {
		<-ready[i]
		f := &todo[i]
		if f.Result.Outcome == Scanned {
			st.Files++
			st.Bytes += f.Size
			file(*f)
		} else {
			k := Skipped{Path: f.Path, Reason: SkipUnreadable, Size: f.Size, Err: f.Result.Err}
			switch f.Result.Outcome {
			case TooLarge:
				k.Reason = SkipTooLarge
			case NotApplicable:
				k.Reason = SkipSpecial
			}
			st.Skipped[k.Reason]++
			skip(k)
		}
		todo[i] = TreeFile{} // release the result
	}
	wg.Wait()
	return st, nil
}

// treeWalk collects what a walk found; checks run after it.
type treeWalk struct {
	opts    TreeOptions
	roots   []string
	files   []TreeFile
	skipped []Skipped
}

func (w *treeWalk) visit(path string, d fs.DirEntry, err error) error {
	if err != nil {
		if d == nil && w.isRoot(path) {
			return err // the root itself is not there
		}
		w.skipped = append(w.skipped, Skipped{Path: path, Reason: SkipUnreadable, Err: bare(err)})
		if d != nil && d.IsDir() {
			return fs.SkipDir
		}
		return nil
	}
	switch t := d.Type(); {
	case t.IsDir():
		return nil
	case t&fs.ModeSymlink != 0:
		reason := SkipSymlinkOut
		if target, err := filepath.EvalSymlinks(path); err == nil && w.inTree(target) {
			reason = SkipSymlinkIn
		}
		w.skipped = append(w.skipped, Skipped{Path: path, Reason: reason})
		return nil
	case !t.IsRegular():
		w.skipped = append(w.skipped, Skipped{Path: path, Reason: SkipSpecial})
		return nil
	}
	info, err := d.Info()
	if err != nil {
		w.skipped = append(w.skipped, Skipped{Path: path, Reason: SkipUnreadable, Err: bare(err)})
		return nil
	}
	if w.opts.MaxFileBytes > 0 && info.Size() > w.opts.MaxFileBytes {
		w.skipped = append(w.skipped, Skipped{Path: path, Reason: SkipTooLarge, Size: info.Size()})
		return nil
	}
	w.files = append(w.files, TreeFile{Path: path, Size: info.Size(), ModTime: info.ModTime().UnixNano()})
	return nil
}

func (w *treeWalk) isRoot(path string) bool {
	for _, r := range w.roots {
		if r == path {
			return true
		}
	}
	return false
}

// inTree reports whether a resolved path lies within one of the roots.
func (w *treeWalk) inTree(path string) bool {
	for _, r := range w.roots {
		if path == r || strings.HasPrefix(path, strings.TrimSuffix(r, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// checkTreeFile reads one file (re-checking that it is still a regular
// file within the size cap: the tree may change during the scan) and runs
// the checks. The outcome is Scanned, TooLarge, Failed (unreadable) or
// NotApplicable (no longer a regular file).
func (s *Scanner) checkTreeFile(ctx context.Context, o TreeOptions, f *TreeFile) {
	data, err := readRegular(o.Opener, f.Path, o.MaxFileBytes)
	switch {
	case errors.Is(err, errTooLarge):
		f.Result = Result{Path: f.Path, Outcome: TooLarge}
		return
	case errors.Is(err, errNotRegular):
		f.Result = Result{Path: f.Path, Outcome: NotApplicable}
		return
	case err != nil:
		f.Result = Result{Path: f.Path, Outcome: Failed, Err: err}
		return
	}
	f.Size = int64(len(data))
	f.Result = s.CheckFile(ctx, f.Path, data)
	if s.opts.Store != nil { // collected files kept for replay (edr artifacts add)
		f.Result.SHA256, f.Result.Stored, f.Result.StoreErr = s.opts.Store.Put(data)
	}
}

// LinkFile ties the process start (or image load) ev records to a stored
// file, so that Replay finds that file for ev although ev carries no
// Hashes: how files collected after the fact (edr artifacts add) reach the
// events of a recording.
func (s *Scanner) LinkFile(ev *event.Event, sha256 string) error {
	path, _, ok := s.Target(ev)
	if !ok {
		return errors.New("filescan: the event names no file to check")
	}
	ls, ok := s.opts.Store.(LinkStore)
	if !ok {
		return errors.New("filescan: the store keeps no links")
	}
	return ls.Link(linkKey(ev, path), sha256)
}

var errNotRegular = errors.New("filescan: not a regular file")

// readRegular reads a file through the opener, refusing what is no longer
// a regular file (when the opener gives an *os.File) and what exceeds max.
func readRegular(op Opener, path string, max int64) ([]byte, error) {
	rc, err := op.Open(path)
	if err != nil {
		return nil, bare(err)
	}
	defer rc.Close()
	if f, ok := rc.(*os.File); ok {
		if info, err := f.Stat(); err != nil {
			return nil, bare(err)
		} else if !info.Mode().IsRegular() {
			return nil, errNotRegular
		}
	}
	r := io.Reader(rc)
	if max > 0 {
		r = io.LimitReader(rc, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, bare(err)
	}
	if max > 0 && int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}

// CheckFile runs the hash IOC and YARA checks on a file's content outside
// of any event (a file collected or found on disk): path names it in the
// result and gives YARA its externals; the allowlists apply as to events.
func (s *Scanner) CheckFile(ctx context.Context, path string, data []byte) Result {
	r := Result{Path: path, Field: "file"}
	r.YARASkipped = s.opts.YARA == nil || s.yaraAllow.Match(cleanPath(path))
	s.check(ctx, nil, &r, data)
	return r
}

// sortedUnique sorts by key and drops repeated keys (overlapping roots).
func sortedUnique[T any](list []T, key func(T) string) []T {
	sort.SliceStable(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
	out := list[:0]
	for _, v := range list {
		if len(out) > 0 && key(v) == key(out[len(out)-1]) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// bare drops the path from a path error: Skipped names the file already.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
