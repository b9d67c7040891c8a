// Package renorm rewrites a recording's normalized layer from its raw layer
// with today's decoders (edr renormalize): a decoder bug fixed after the
// fact no longer stays frozen in old recordings.
package renorm

import (
	"fmt"
	"os"
	"sort"

	"github.com/edr-lab/edr/capture/decode"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
)

// Stats says what Run did.
type Stats struct {
	RawRecords int64 // raw records read and copied to the output
	Emitted    int64 // normalized events decoded from them
	Copied     int64 // events of other sources (import, generate) copied unchanged
	Replaced   int64 // ETW events of the input, replaced by the decoded ones
	// Unhandled and UnknownVersion count raw records today's decoders do
	// not decode (their raw record is still copied).
	Unhandled, UnknownVersion uint64
}

// Run writes dst from src: every raw record of src is decoded again (one
// decoder per host, the host's records in capture order) and written with
// its events; every event of src not from ETW is copied unchanged; src's ETW
// events are not copied (the decoded ones replace them). The raw layer is
// copied record for record, each linked to the Seq of the first event it
// yields now. dst must not exist or be empty. The output depends only on
// src: running it twice gives identical recordings.
func Run(src, dst string, opts recording.WriterOptions) (st Stats, err error) {
	if ents, err := os.ReadDir(dst); err == nil && len(ents) > 0 {
		return st, fmt.Errorf("renormalize: %s is not empty", dst)
	}
	if _, err := os.Stat(src); err != nil {
		return st, fmt.Errorf("renormalize: %w", err)
	}
	w, err := recording.OpenWriter(dst, opts)
	if err != nil {
		return st, fmt.Errorf("renormalize: %w", err)
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("renormalize: %w", cerr)
		}
	}()
	var (
		decoders = map[string]*decode.Decoder{}
		first    uint64
		werr     error
	)
	emit := func(e *event.Event) {
		if werr != nil {
			return
		}
		werr = w.Write(e)
		if first == 0 {
			first = e.Seq
		}
		st.Emitted++
	}
	err = recording.ReadRaw(src, recording.RawFilter{}, func(r *recording.RawRecord) error {
		d := decoders[r.Host]
		if d == nil {
			d = decode.New(decode.Options{Host: r.Host})
			decoders[r.Host] = d
		}
		first = 0
		d.Decode(r.Record, emit)
		if werr != nil {
			return werr
		}
		st.RawRecords++
		return w.WriteRaw(r.Host, r.Record, first)
	})
	if err != nil {
		return st, fmt.Errorf("renormalize: raw layer of %s: %w", src, err)
	}
	hosts := make([]string, 0, len(decoders))
	for h := range decoders {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts) // map order must not reach the output
	for _, h := range hosts {
		d := decoders[h]
		d.Flush(emit) // registry writes whose key was never named
		for _, n := range d.Stats.Unhandled {
			st.Unhandled += n
		}
		for _, n := range d.Stats.UnknownVersion {
			st.UnknownVersion += n
		}
	}
	if werr != nil {
		return st, fmt.Errorf("renormalize: %w", werr)
	}
	rd, err := recording.OpenReader(src, recording.ReaderOptions{Strict: true})
	if err != nil {
		return st, fmt.Errorf("renormalize: %w", err)
	}
	var ev event.Event
	err = rd.Run(func(batch []event.Event) error {
		for i := range batch {
			if batch[i].Source == event.SourceETW {
				st.Replaced++
				continue
			}
			ev.CopyFrom(&batch[i])
			if err := w.Write(&ev); err != nil {
				return err
			}
			st.Copied++
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("renormalize: %w", err)
	}
	return st, nil
}
