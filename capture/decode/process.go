package decode

import (
	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
)

// Kernel-Process versions from the manifest dumps (Windows 10 to 26H1).
func init() {
	route(capture.KernelProcess, []uint8{0, 1, 2, 3, 4, 5}, (*Decoder).processStart, 1)
	route(capture.KernelProcess, []uint8{0, 1, 2}, (*Decoder).processStop, 2)
	route(capture.KernelProcess, []uint8{0}, (*Decoder).imageLoad, 5)
}

// integrity levels by MandatoryLabel RID, as Sysmon names them.
var integrity = map[string]string{
	"S-1-16-0": "Untrusted", "S-1-16-4096": "Low", "S-1-16-8192": "Medium",
	"S-1-16-12288": "High", "S-1-16-16384": "System", "S-1-16-20480": "Protected",
}

// processStart → Sysmon 1. The provider has no command line, user or
// current directory: those fields stay absent (enrichment or the classic
// kernel record supply them).
func (d *Decoder) processStart(r *raw.Record) Result {
	b := d.sysmon(r, 1)
	d.num(b, r, "ProcessID", "ProcessId")
	if img, ok := r.Str("ImageName"); ok {
		b.Data("Image", d.paths.MapPath(img))
	}
	d.num(b, r, "SessionID", "TerminalSessionId")
	if sid, ok := r.Str("MandatoryLabel"); ok {
		if il, ok := integrity[sid]; ok {
			b.Data("IntegrityLevel", il)
		}
	}
	d.num(b, r, "ParentProcessID", "ParentProcessId")
	return d.finish()
}

// processStop → Sysmon 5. ImageName is the short (ANSI) name here;
// enrichment replaces it from the process table when it knows the path.
func (d *Decoder) processStop(r *raw.Record) Result {
	b := d.sysmon(r, 5)
	d.num(b, r, "ProcessID", "ProcessId")
	str(b, r, "ImageName", "Image")
	return d.finish()
}

// imageLoad → Sysmon 7. Image (the loading process) comes from enrichment.
func (d *Decoder) imageLoad(r *raw.Record) Result {
	b := d.sysmon(r, 7)
	d.num(b, r, "ProcessID", "ProcessId")
	if img, ok := r.Str("ImageName"); ok {
		b.Data("ImageLoaded", d.paths.MapPath(img))
	}
	return d.finish()
}
