package enrich

import (
	"errors"
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

// DevicePaths rewrites NT device paths to DOS paths with a snapshot of a
// VolumeMap. It is the decoder's PathMapper (capture/decode) as well as the
// Enricher's; not safe for concurrent use, so each goroutine makes its own. Rewritten paths are carved from large byte blocks rather than
// allocated one by one: a path is written once, is immutable from then on,
// and a block lives as long as any path in it, so the hot path neither
// allocates per event nor hashes paths into a cache (which cost more than
// the rewrite itself on a stream with tens of thousands of distinct file
// names).
type DevicePaths struct {
	devices []volume // longest device first, so \Device\X1 never matches \Device\X10
	block   []byte

	Mapped, Unmapped uint64 // MapPath calls that rewrote a device path / found no drive for it
}

const pathBlock = 64 << 10

type volume struct{ device, drive string }

// NewDevicePaths reads vm once (nil: no volumes, every device path stays).
func NewDevicePaths(vm VolumeMap) (*DevicePaths, error) {
	var vols map[string]string
	if vm != nil {
		var err error
		if vols, err = vm.Volumes(); err != nil {
			return nil, errors.New("enrich: reading the volume map: " + err.Error())
		}
	}
	return newDevicePaths(vols), nil
}

// MapPath returns the DOS form of an NT path, or the path unchanged when no
// drive letter names its device (counted in Unmapped).
func (d *DevicePaths) MapPath(p string) string {
	if p == "" || p[0] != '\\' {
		return p
	}
	s, ok := d.translate(p)
	switch {
	case !ok:
		d.Unmapped++
	case s != p:
		d.Mapped++
	}
	return s
}

func newDevicePaths(vols map[string]string) *DevicePaths {
	d := &DevicePaths{}
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
func (d *DevicePaths) translate(p string) (string, bool) {
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
func (d *DevicePaths) join(drive, rest string) string {
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
