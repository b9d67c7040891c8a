// Package pqfile is the page and integrity layer of a segment's Parquet
// file: finding the footer, the footer checksum the writer patches into its
// last key-value entry, and the CRC of the data region before it; the page
// writer (Writer); and the page decoder of the read path (Column). It knows
// the Parquet framing (pages, levels, encodings, footer length, magic) but
// nothing of events or of the segment's metadata, so it can be fuzzed on
// its own.
package pqfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// Key-value metadata keys of the footer (recording exports them as
// MetaDataCRC and MetaFooterCRC).
const (
	// DataCRCKey holds the CRC-32C (hex) of every byte before the footer.
	DataCRCKey = "edr.data_crc32c"
	// FooterCRCKey holds FooterCRCPrefix + the CRC-32C (hex) of the footer
	// computed with these 8 hex digits set to "00000000". It is the last key.
	FooterCRCKey = "edr.footer_crc32c"
	// FooterCRCPrefix starts FooterCRCKey's value; the writer searches for
	// it (followed by the zeroed digits) to patch the checksum in.
	FooterCRCPrefix = "crc32c:"
)

// zeroDigits is the footer checksum slot before Seal patches it.
const zeroDigits = "00000000"

// Magic starts and ends every Parquet file.
var Magic = []byte("PAR1")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt wraps every error caused by the content of a file, as opposed
// to I/O errors (recording.ErrCorrupt is this value).
var ErrCorrupt = errors.New("corrupt segment")

// ErrDataChecksum: the data region does not match its checksum.
var ErrDataChecksum = fmt.Errorf("%w: data checksum mismatch", ErrCorrupt)

// ReadFooter returns the raw footer (thrift FileMetaData) of a file of size
// bytes.
func ReadFooter(f io.ReaderAt, size int64) ([]byte, error) {
	if size < 12 {
		return nil, fmt.Errorf("%w: %d bytes is too short for Parquet", ErrCorrupt, size)
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if !bytes.Equal(tail[4:], Magic) {
		return nil, fmt.Errorf("%w: no Parquet magic at the end (truncated?)", ErrCorrupt)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return nil, fmt.Errorf("%w: footer length %d exceeds the file (truncated?)", ErrCorrupt, n)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return nil, err
	}
	return footer, nil
}

// footerCRCSlot returns where the footer checksum's 8 hex digits start.
func footerCRCSlot(footer []byte) (int, error) {
	at := bytes.LastIndex(footer, []byte(FooterCRCPrefix))
	if at < 0 || at+len(FooterCRCPrefix)+8 > len(footer) {
		return 0, fmt.Errorf("%w: footer has no %s", ErrCorrupt, FooterCRCKey)
	}
	return at + len(FooterCRCPrefix), nil
}

// footerCRC is the checksum of footer with the digits at slot zeroed.
func footerCRC(footer []byte, slot int) uint32 {
	c := crc32.Update(0, castagnoli, footer[:slot])
	c = crc32.Update(c, castagnoli, []byte(zeroDigits))
	return crc32.Update(c, castagnoli, footer[slot+8:])
}

// VerifyFooter checks the footer checksum the writer patched into its last
// key-value entry.
func VerifyFooter(footer []byte) error {
	digits, err := footerCRCSlot(footer)
	if err != nil {
		return err
	}
	want, err := strconv.ParseUint(string(footer[digits:digits+8]), 16, 32)
	if err != nil {
		return fmt.Errorf("%w: bad footer checksum %q", ErrCorrupt, footer[digits:digits+8])
	}
	if uint32(want) != footerCRC(footer, digits) {
		return fmt.Errorf("%w: footer checksum mismatch", ErrCorrupt)
	}
	return nil
}

// FooterKeyValues are the checksum entries the writer appends, last, to
// the footer's key-value metadata: the data CRC and the zeroed footer CRC
// slot that Seal fills.
func FooterKeyValues(dataCRC uint32) [2][2]string {
	return [2][2]string{{DataCRCKey, fmt.Sprintf("%08x", dataCRC)}, {FooterCRCKey, FooterCRCPrefix + zeroDigits}}
}

// Seal patches the checksum of footer (thrift FileMetaData whose last
// key-value entry is FooterKeyValues' zeroed slot) into that slot.
func Seal(footer []byte) error {
	at := bytes.LastIndex(footer, []byte(FooterCRCPrefix+zeroDigits))
	if at < 0 {
		return errors.New("footer checksum slot not found")
	}
	copy(footer[at+len(FooterCRCPrefix):], fmt.Sprintf("%08x", crc32.Checksum(footer, castagnoli)))
	return nil
}

// FooterValue finds a key's value in the raw footer: the thrift compact
// encoding of a KeyValue string is a length varint then the bytes.
func FooterValue(footer []byte, key string) (string, error) {
	at, n, err := footerValueAt(footer, key)
	if err != nil {
		return "", err
	}
	return string(footer[at : at+n]), nil
}

func footerValueAt(footer []byte, key string) (int, int, error) {
	at := bytes.LastIndex(footer, []byte(key))
	if at < 0 {
		return 0, 0, fmt.Errorf("%w: footer has no %s", ErrCorrupt, key)
	}
	p := footer[at+len(key):]
	// field header byte of Value, then its length
	if len(p) < 2 {
		return 0, 0, fmt.Errorf("%w: footer %s cut", ErrCorrupt, key)
	}
	n, k := binary.Uvarint(p[1:])
	if k <= 0 || n > uint64(len(p)-1-k) {
		return 0, 0, fmt.Errorf("%w: footer %s malformed", ErrCorrupt, key)
	}
	return at + len(key) + 1 + k, int(n), nil
}

// VerifyData checks the CRC of the data region (everything before the
// footer) against the footer's value, and returns where to read pages from:
// f, or the file's bytes in memory when size is at most inMemoryMax.
func VerifyData(f io.ReaderAt, size int64, footer []byte, inMemoryMax int64) (io.ReaderAt, error) {
	want, err := FooterValue(footer, DataCRCKey)
	if err != nil {
		return nil, err
	}
	end := size - 8 - int64(len(footer))
	var c uint32
	src := f
	if size <= inMemoryMax {
		raw := make([]byte, size)
		if _, err := f.ReadAt(raw, 0); err != nil {
			return nil, err
		}
		c = crc32.Checksum(raw[:end], castagnoli)
		src = NewMem(raw)
	} else {
		h := crc32.New(castagnoli)
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, end)); err != nil {
			return nil, err
		}
		c = h.Sum32()
	}
	if fmt.Sprintf("%08x", c) != want {
		return nil, fmt.Errorf("%w (bytes 0..%d)", ErrDataChecksum, end)
	}
	return src, nil
}

// Reseal recomputes, in place, both checksums of a whole file held in
// memory, when its footer can be found and has both slots; it reports
// whether it did (hostile bytes can make the two values overlap: the file
// is then left as it was). Tests use it to hand damaged pages past the
// checksums to the page decoder, which a reader otherwise never reaches
// with them.
func Reseal(file []byte) bool {
	size := int64(len(file))
	footer, err := ReadFooter(bytes.NewReader(file), size)
	if err != nil {
		return false
	}
	end := len(file) - 8 - len(footer)
	footer = file[end : len(file)-8]
	at, n, err := footerValueAt(footer, DataCRCKey)
	if err != nil || n != 8 {
		return false
	}
	orig := append([]byte(nil), footer...)
	copy(footer[at:], fmt.Sprintf("%08x", crc32.Checksum(file[:end], castagnoli)))
	if slot, err := footerCRCSlot(footer); err == nil {
		copy(footer[slot:], fmt.Sprintf("%08x", footerCRC(footer, slot)))
		if VerifyFooter(footer) == nil {
			if _, err := VerifyData(bytes.NewReader(file), size, footer, 0); err == nil {
				return true
			}
		}
	}
	copy(footer, orig)
	return false
}
