package ioc_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The EVTX corpora the derived IOC hits were computed over.
var evtxCorpora = []string{"evtx-attack-samples", "evtx-to-mitre-attack", "sigma/regression_data", "evtx-parser-samples"}

// derivedFields are the path fields the derived cross-check matched
// filename regexes on (edr matches more; see TestSignatureBaseIOCsOnEVTX).
var derivedFields = map[string]bool{"Image": true, "TargetFilename": true, "ImageLoaded": true}

// derivedRow is one row of the derived table. Its "events" column counts
// (event, field) occurrences: an event whose Image and ImageLoaded both
// match counts twice (checked with evtxexport -f xml on the NvSmart rows).
type derivedRow struct {
	events    int
	fields    int // edr: (event, field) occurrences, the derived table's measure
	firstFile string
}

// knownDifferences are rows where edr disagrees with the derived table,
// with the count edr finds and why it is right.
var knownDifferences = map[string]struct {
	fields int
	why    string
}{
	"filename\t\\\\mimilsa\\.log\tC:\\Windows\\System32\\mimilsa.log": {1, "the derived table says 2, but the string " +
		"occurs in one record of one file only (a raw UTF-16 scan of the corpus, evtxexport -f xml and -m all agree): " +
		"CA_Mimikatz_Memssp_Default_Logs_Sysmon_11.evtx record 385052, TargetFilename"},
}

// TestSignatureBaseIOCsOnEVTX loads the signature-base lists as LOKI reads
// them (filename regexes scored ≥ 60, false-positive regexes honoured),
// matches every Sysmon event of the EVTX corpora, and compares with
// DERIVED_ioc_hits_in_evtx_corpora.tsv: per (kind, indicator, value) the
// number of events and the first file.
func TestSignatureBaseIOCsOnEVTX(t *testing.T) {
	sb := testutil.Corpus(t, "iocs/signature-base")
	derivedPath := testutil.Corpus(t, "iocs/DERIVED_ioc_hits_in_evtx_corpora.tsv")
	corpus := testutil.CorpusDir()
	set, errs := ioc.Load(ioc.Paths{Loki: []string{
		filepath.Join(sb, "hash-iocs.txt"), filepath.Join(sb, "c2-iocs.txt"), filepath.Join(sb, "filename-iocs.txt"),
	}}, ioc.Options{LokiMinScore: 60})
	require.Empty(t, errs, "every signature-base line loads")
	st := set.Stats()
	t.Logf("loaded %d indicators: %+v", set.Len(), st)

	got := map[string]*derivedRow{}
	extraFields := map[string]int{}
	files, sysmonEvents := 0, 0
	pathValues, distinctPaths := 0, map[string]bool{}
	var hits []ioc.Hit
	for _, d := range evtxCorpora {
		root := filepath.Join(corpus, d)
		var paths []string
		require.NoError(t, filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
				paths = append(paths, p)
			}
			return err
		}))
		sort.Strings(paths)
		for _, p := range paths {
			files++
			rel, _ := filepath.Rel(corpus, p)
			rel = filepath.ToSlash(rel)
			_, err := evtx.ReadFile(p, func(ev *event.Event) error {
				if ev.Channel != event.ChannelSysmon {
					return nil
				}
				sysmonEvents++
				for _, f := range ioc.PathFields() {
					if v, ok := ev.Get(f); ok && v != "" {
						pathValues++
						distinctPaths[v] = true
					}
				}
				hits = set.Match(ev, hits[:0])
				seen := map[string]bool{}
				for _, h := range hits {
					key, ok := derivedKey(h)
					if !ok {
						extraFields[h.Kind.String()+" on "+h.Field]++
						continue
					}
					if got[key] == nil {
						got[key] = &derivedRow{firstFile: rel}
					}
					got[key].fields++
					if !seen[key] {
						seen[key] = true
						got[key].events++
					}
				}
				return nil
			})
			if err != nil {
				t.Logf("%s: %v", rel, err) // damaged parser samples: read as far as possible
			}
		}
	}
	want := readDerivedIOC(t, derivedPath)
	t.Logf("%d EVTX files, %d Sysmon events, %d distinct (kind, indicator, value) hits; derived lists %d", files, sysmonEvents, len(got), len(want))
	t.Logf("path values: %d, distinct: %d (what the path cache can save)", pathValues, len(distinctPaths))
	for k, n := range extraFields {
		t.Logf("beyond the derived fields: %d hits of %s", n, k)
	}
	require.NotEmpty(t, got)
	assert.Equal(t, sortedKeys(want), sortedKeys(got), "same (kind, indicator, value) set")
	for k, w := range want {
		if g := got[k]; g != nil {
			if kd, ok := knownDifferences[k]; ok {
				assert.Equal(t, kd.fields, g.fields, "known difference %s", k)
				t.Logf("known difference: %q: derived %d, edr %d: %s", k, w.events, g.fields, kd.why)
				continue
			}
			assert.Equal(t, w.events, g.fields, "(event, field) occurrences for %s (%d events)", k, g.events)
			assert.Equal(t, w.firstFile, g.firstFile, "first file for %s", k)
		}
	}
}

// derivedKey renders a hit the way the derived table does: kind
// "filename" (regex as written) or "hash" ("sigbase:" + the line's text
// after the hash, clipped to 60 bytes), and the value clipped to its last
// 80 bytes.
func derivedKey(h ioc.Hit) (string, bool) {
	v := h.Value
	if len(v) > 80 {
		v = v[len(v)-80:]
	}
	switch h.Kind {
	case ioc.KindPath:
		if !derivedFields[h.Field] {
			return "", false
		}
		return "filename\t" + h.Indicator + "\t" + v, true
	case ioc.KindMD5, ioc.KindSHA1, ioc.KindSHA256:
		return "hash\t" + strings.ToLower(v), true
	}
	return h.Kind.String() + "\t" + h.Indicator + "\t" + v, true
}

func readDerivedIOC(t *testing.T, path string) map[string]*derivedRow {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]*derivedRow{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "events\t") {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 5, line)
		n, err := strconv.Atoi(cols[0])
		require.NoError(t, err, line)
		key := cols[1] + "\t" + cols[2] + "\t" + cols[3]
		if cols[1] == "hash" {
			// The hash rows name the list line; edr's key is the digest.
			key = "hash\t" + strings.ToLower(cols[3])
		}
		out[key] = &derivedRow{events: n, firstFile: cols[4]}
	}
	require.NoError(t, sc.Err())
	return out
}

func sortedKeys(m map[string]*derivedRow) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
