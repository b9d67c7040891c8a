package enrich

import (
	"sort"
	"strings"
	"unsafe"
)

// VolumeMap lists the drive letters and the NT device each names
// ("C:" → `\Device\HarddiskVolume3`). Kernel ETW providers report paths in
// the NT namespace; Sysmon (and every rule) uses the DOS form.
type VolumeMap interface {
	Volumes() (map[string]string, error)
}

// StaticVolumes is a fixed VolumeMap (tests, recordings of another host).
type StaticVolumes map[string]string

func (s StaticVolumes) Volumes() (map[string]string, error) { return s, nil }

// devicePaths rewrites NT device paths to DOS paths with a snapshot of a
// VolumeMap. Rewritten paths are carved from large byte blocks rather than
// allocated one by one: a path is written once, is immutable from then on,
// and a block lives as long as any path in it, so the hot path neither
// allocates per event nor hashes paths into a cache (which cost more than
// the rewrite itself on a stream with tens of thousands of distinct file
// names).
type devicePaths struct {
	devices []volume // longest device first, so \Device\X1 never matches \Device\X10
	block   []byte
}

const pathBlock = 64 << 10

type volume struct{ device, drive string }

func newDevicePaths(vols map[string]string) *devicePaths {
	d := &devicePaths{}
	for drive, dev := range vols {
		if dev != "" && drive != "" {
			d.devices = append(d.devices, volume{strings.TrimSuffix(dev, `\`), strings.TrimSuffix(drive, `\`)})
		}
	}
	sort.Slice(d.devices, func(i, j int) bool {
		a, b := d.devices[i], d.devices[j]
		if len(a.device) != len(b.device) {
			return len(a.device) > len(b.device)
		}
		return a.device+a.drive < b.device+b.drive
	})
	return d
}

// translate returns the DOS form of an NT path. ok is false for an NT
// device path whose device no drive letter names (a network redirector
// without a mapped drive, an unmounted volume): the path is then returned
// as it is. Paths already in DOS form come back unchanged with ok true.
func (d *devicePaths) translate(p string) (string, bool) {
	switch {
	case strings.HasPrefix(p, `\??\`) && len(p) > 6 && p[5] == ':':
		return p[4:], true // `\??\C:\x` is the DOS path in the object namespace
	case !hasPrefixFold(p, `\Device\`):
		return p, true
	}
	for _, v := range d.devices {
		if hasPrefixFold(p, v.device) && (len(p) == len(v.device) || p[len(v.device)] == '\\') {
			return d.join(v.drive, p[len(v.device):]), true
		}
	}
	return p, false
}

// join returns drive+rest, written into the current block.
func (d *devicePaths) join(drive, rest string) string {
	n := len(drive) + len(rest)
	if free := cap(d.block) - len(d.block); n > free {
		if n > pathBlock/16 {
			return drive + rest // a rare long path gets its own allocation
		}
		d.block = make([]byte, 0, pathBlock)
	}
	start := len(d.block)
	d.block = append(d.block, drive...)
	d.block = append(d.block, rest...)
	return unsafe.String(&d.block[start], n)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
