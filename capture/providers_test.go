package capture

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/internal/manifest"
	"github.com/edr-lab/edr/internal/testutil"
)

func shared(t *testing.T) string {
	return testutil.Shared(t, ".")
}

var (
	reGUID    = regexp.MustCompile(`\{([0-9A-Fa-f-]{36})\}`)
	reKeyword = regexp.MustCompile(`([A-Za-z0-9_]+) (0x[0-9A-Fa-f]+)`)
)

// TestProviderTableMatchesNotes checks every GUID and keyword bit against
// the manifest table of etw-notes.md Part B2, and the corrections of
// rustinel-notes.md §2.1/§10.4 (the seed's wrong Kernel-File GUID, the
// registry mask that recorded reads).
func TestProviderTableMatchesNotes(t *testing.T) {
	sh := shared(t)
	notes, err := os.ReadFile(filepath.Join(sh, "reference/etw-notes.md"))
	require.NoError(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(notes), "\n") {
		if strings.HasPrefix(line, "| **Microsoft-Windows-") {
			name := strings.TrimPrefix(line, "| **")
			name = name[:strings.Index(name, "**")]
			rows[name] = line
		}
	}
	require.Len(t, Providers, 8)
	for _, p := range Providers {
		row, ok := rows[p.Name]
		require.True(t, ok, "%s has no row in etw-notes Part B2", p.Name)
		cells := strings.Split(row, "|")
		m := reGUID.FindStringSubmatch(cells[1])
		require.NotNil(t, m, p.Name)
		assert.Equal(t, strings.ToLower(m[1]), p.GUID.String(), p.Name)
		kw := map[string]uint64{}
		for _, m := range reKeyword.FindAllStringSubmatch(cells[2], -1) {
			v, err := strconv.ParseUint(m[2], 0, 64)
			require.NoError(t, err)
			kw[m[1]] = v
		}
		var mask uint64
		for _, n := range p.KeywordNames {
			v, ok := kw[n]
			require.True(t, ok, "%s: keyword %s not in the notes", p.Name, n)
			mask |= v
		}
		assert.Equal(t, mask, p.Keywords, "%s: keyword mask is not the OR of its named bits", p.Name)
		if len(p.KeywordNames) == 0 {
			assert.Zero(t, p.Keywords, p.Name)
		}
	}

	rn, err := os.ReadFile(filepath.Join(sh, "reference/rustinel-notes.md"))
	require.NoError(t, err)
	text := string(rn)
	assert.Contains(t, text, "correct: `"+KernelFile.String()+"`")
	assert.Contains(t, text, "`edd08927-9cc4-4e65-b970-63462d3f77bd` (wrong")
	assert.NotEqual(t, "edd08927-9cc4-4e65-b970-63462d3f77bd", KernelFile.String())
	reg := ProviderByGUID(KernelRegistry)
	assert.Contains(t, text, "Kernel-Registry: keywords 0x"+strconv.FormatUint(reg.Keywords, 16)+" + event IDs {1,2,3,5,6,13}")
	assert.Equal(t, uint64(0x7301), reg.Keywords)
	assert.Zero(t, reg.Keywords&0x8000, "QueryKey (0x8000) floods reads")
	assert.True(t, reg.RegistryCapturedData)
	file := ProviderByGUID(KernelFile)
	assert.Contains(t, text, "event-ID filter {10,11,12,14,16,17,26,27,28}")
	assert.Equal(t, []uint16{10, 11, 12, 14, 16, 17, 26, 27, 28}, file.EventIDs)
	assert.Equal(t, SessionProcess, ProviderByGUID(KernelProcess).Session)
}

var levels = map[string]uint8{"Always": 0, "Critical": 1, "Error": 2, "Warning": 3, "Informational": 4, "Verbose": 5}

// TestProviderTableAgainstManifests: every filtered event id exists in the
// provider's manifest dump, its keyword is enabled, and its level is within
// the enabled level (PowerShell 4104 is Verbose).
func TestProviderTableAgainstManifests(t *testing.T) {
	sh := shared(t)
	for _, p := range Providers {
		path := filepath.Join(sh, "etw/manifests", p.Name+".tsv")
		f, err := os.Open(path)
		require.NoError(t, err, p.Name)
		rows, err := manifest.Read(f, path)
		f.Close()
		require.NoError(t, err)
		type ev struct {
			level    uint8
			keywords string
		}
		evs := map[uint16][]ev{}
		for _, r := range rows {
			if r.Provider != p.Name {
				continue
			}
			lv, ok := levels[r.Level]
			if !ok {
				lv = 4
			}
			evs[r.EventID] = append(evs[r.EventID], ev{lv, r.Keywords})
		}
		for _, id := range p.EventIDs {
			versions, ok := evs[id]
			if !assert.True(t, ok, "%s: event %d not in the manifest", p.Name, id) {
				continue
			}
			for _, v := range versions {
				assert.LessOrEqual(t, v.level, p.Level, "%s %d level", p.Name, id)
				if p.Keywords == 0 || v.keywords == "" {
					continue
				}
				hit := false
				for _, n := range p.KeywordNames {
					if strings.Contains(strings.ToLower(v.keywords), strings.ToLower(n)) {
						hit = true
					}
				}
				assert.True(t, hit, "%s %d: keywords %q not enabled by %v", p.Name, id, v.keywords, p.KeywordNames)
			}
		}
	}
}
