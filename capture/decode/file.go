package decode

import (
	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
)

func init() {
	v0, v01 := []uint8{0}, []uint8{0, 1}
	route(capture.KernelFile, v0, (*Decoder).fileNameCreate, 10)
	route(capture.KernelFile, v0, (*Decoder).fileNameDelete, 11)
	route(capture.KernelFile, v01, (*Decoder).fileCreate, 12, 30)
	route(capture.KernelFile, v01, (*Decoder).fileClose, 14)
	route(capture.KernelFile, v01, (*Decoder).fileState, 16)
	route(capture.KernelFile, v01, (*Decoder).fileSetInfo, 17)
	route(capture.KernelFile, v01, (*Decoder).fileDeletePath, 26)
	route(capture.KernelFile, v01, (*Decoder).fileRenamePath, 27, 28)
}

// Create dispositions (the top byte of CreateOptions).
const (
	fileSupersede   = 0
	fileOpen        = 1
	fileCreate      = 2
	fileOpenIf      = 3
	fileOverwrite   = 4
	fileOverwriteIf = 5

	fileDirectoryFile = 0x1 // CreateOptions: the target is a directory

	infoClassBasic = 4 // FileBasicInformation: timestamps ("timestomp")
)

// fileNameCreate (10) names a FileKey.
func (d *Decoder) fileNameCreate(r *raw.Record) Result {
	k, okK := r.Uint("FileKey")
	n, okN := r.Str("FileName")
	if okK && okN {
		d.fileKey.put(k, n)
	}
	return State
}

// fileNameDelete (11) forgets a FileKey's name.
func (d *Decoder) fileNameDelete(r *raw.Record) Result {
	if k, ok := r.Uint("FileKey"); ok {
		d.fileKey.del(k)
	}
	return State
}

// fileCreate (12 Create, 30 CreateNewFile) names a FileObject, and is a
// Sysmon 11 when its disposition can create or overwrite (Sysmon logs
// files "created or overwritten"); a plain open is not. Directories are
// not files to Sysmon 11.
func (d *Decoder) fileCreate(r *raw.Record) Result {
	name, okN := r.Str("FileName")
	if fo, ok := r.Uint("FileObject"); ok && okN {
		d.fileObj.put(fo, name)
	}
	opts, ok := r.Uint("CreateOptions")
	if !ok || !okN || opts&fileDirectoryFile != 0 {
		return State
	}
	switch opts >> 24 {
	case fileSupersede, fileCreate, fileOpenIf, fileOverwrite, fileOverwriteIf:
	default:
		return State
	}
	b := d.sysmon(r, 11)
	d.filePID(b, r)
	b.Data("TargetFilename", d.paths.MapPath(name))
	return d.finish()
}

// fileClose (14) ends a FileObject's life.
func (d *Decoder) fileClose(r *raw.Record) Result {
	if fo, ok := r.Uint("FileObject"); ok {
		d.fileObj.del(fo)
	}
	return State
}

// fileState: records kept for the joins only (16 Write: no Sysmon event).
func (d *Decoder) fileState(*raw.Record) Result { return State }

// fileName resolves a pathless record by FileObject, then FileKey.
func (d *Decoder) fileName(r *raw.Record) (string, bool) {
	if fo, ok := r.Uint("FileObject"); ok {
		if n, ok := d.fileObj.get(fo); ok {
			return n, true
		}
	}
	if k, ok := r.Uint("FileKey"); ok {
		if n, ok := d.fileKey.get(k); ok {
			return n, true
		}
	}
	return "", false
}

// fileSetInfo (17): FileBasicInformation is Sysmon 2 (creation time
// changed). The new and previous times are not in the record: absent.
func (d *Decoder) fileSetInfo(r *raw.Record) Result {
	if c, ok := r.Uint("InfoClass"); !ok || c != infoClassBasic {
		return State
	}
	b := d.sysmon(r, 2)
	d.filePID(b, r)
	if n, ok := d.fileName(r); ok {
		b.Data("TargetFilename", d.paths.MapPath(n))
	} else {
		d.Stats.Unresolved++
	}
	return d.finish()
}

// fileDeletePath (26) → Sysmon 26 "File Delete logged": edr does not
// archive the file, which is what 23 would claim.
func (d *Decoder) fileDeletePath(r *raw.Record) Result {
	b := d.sysmon(r, 26)
	d.filePID(b, r)
	if p, ok := r.Str("FilePath"); ok {
		b.Data("TargetFilename", d.paths.MapPath(p))
	} else if n, ok := d.fileName(r); ok {
		b.Data("TargetFilename", d.paths.MapPath(n))
	} else {
		d.Stats.Unresolved++
	}
	return d.finish()
}

// fileRenamePath (27 rename, 28 set-link) carries the new path: Sysmon has
// no rename event, so it renames the file in the join state, where later
// pathless records find it.
func (d *Decoder) fileRenamePath(r *raw.Record) Result {
	p, ok := r.Str("FilePath")
	if !ok {
		return State
	}
	if fo, ok := r.Uint("FileObject"); ok && r.EventID == 27 {
		d.fileObj.put(fo, p)
	}
	return State
}

// filePID: Kernel-File logs in the context of the issuing process.
func (d *Decoder) filePID(b builder, r *raw.Record) {
	b.Data("ProcessId", d.itoa32(r.PID))
}
