package recording_test

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/importer"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readRec(t *testing.T, dir string) []*event.Event {
	t.Helper()
	evs, _ := recording.ReadAll(t, dir, recording.ReaderOptions{Strict: true})
	return evs
}

// TestSchema1SegmentEqualsReimport: the schema-1 segment in testdata (one
// column per spelling, written by the build before) decodes to exactly the
// events that importing its source again gives, now written with one
// column per case-insensitive name.
func TestSchema1SegmentEqualsReimport(t *testing.T) {
	dir := t.TempDir()
	_, err := importer.Run(context.Background(), []string{filepath.Join("testdata", "schema1-casefold.json")},
		importer.Options{Out: dir, Format: importer.FormatJSON})
	require.NoError(t, err)
	old := readRec(t, filepath.Join("testdata", "schema1-casefold"))
	now := readRec(t, dir)
	require.Len(t, now, len(old))
	require.NotEmpty(t, old)
	for i := range old {
		assert.True(t, event.Equal(old[i], now[i]), "event %d differs:\nold %v\nnew %v", i, old[i], now[i])
	}
	sum, err := recording.Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, []int{event.SchemaVersion}, sum.SchemaVersions)
	assert.Greater(t, event.SchemaVersion, 1)
}

// caseGroups lists the schema's names that differ only in case, by the
// name of their shared column.
func caseGroups() map[event.FieldID][]event.FieldID {
	out := map[event.FieldID][]event.FieldID{}
	for _, f := range event.Fields() {
		if !f.Virtual && f.ID.Folded() {
			out[f.Fold] = append(out[f.Fold], f.ID)
		}
	}
	return out
}

// TestDuckDBCorpusCaseFold: over a recording imported from the two EVTX
// corpora, DuckDB renames no column for a case clash (before schema 2 it
// showed ProcessID_1, processid_2 …, and `SELECT ProcessID` read
// Sysmon's ProcessId), and a query on every spelling of each former group
// returns every value of every spelling.
func TestDuckDBCorpusCaseFold(t *testing.T) {
	recording.DuckDBScript(t)
	srcs := []string{testutil.Corpus(t, "evtx-attack-samples"), testutil.Corpus(t, "evtx-to-mitre-attack")}
	dir := t.TempDir()
	_, err := importer.Run(context.Background(), srcs, importer.Options{Out: dir})
	require.NoError(t, err)
	evs := readRec(t, dir)
	require.NotEmpty(t, evs)

	// Expected per group: values by channel/event ID (count, total length),
	// over every spelling.
	type agg struct{ n, l int64 }
	groups := caseGroups()
	want := map[event.FieldID]map[string]agg{}
	spellings := map[event.FieldID]map[event.FieldID]bool{}
	for fold, members := range groups {
		want[fold] = map[string]agg{}
		spellings[fold] = map[event.FieldID]bool{}
		for _, e := range evs {
			for _, id := range members {
				if v, ok := e.Get(id); ok {
					k := fmt.Sprintf("%s/%d", e.Channel, e.EventID)
					a := want[fold][k]
					a.n++
					a.l += int64(len(v))
					want[fold][k] = a
					spellings[fold][id] = true
				}
			}
		}
	}
	// The corpora use two spellings of these groups (the others have one
	// spelling or none there; the unit tests cover them), and Bits-Client
	// events, which the schema does not define, spell ID as Id.
	for _, name := range []string{"ProcessId", "LogonId", "SourceProcessGuid", "TargetProcessGuid", "CategoryId"} {
		assert.GreaterOrEqual(t, len(spellings[event.MustField(name)]), 2, "spellings of %s in the corpora", name)
	}
	assert.True(t, spellings[event.MustField("ID")][event.MustField("Id")], "Id in the corpora")

	queries := []string{"SELECT column_name AS c FROM (DESCRIBE SELECT * FROM REC)"}
	type q struct{ fold, spelling event.FieldID }
	var asked []q
	for fold, members := range groups {
		for _, id := range members {
			queries = append(queries, fmt.Sprintf(`SELECT Channel AS c, EventID AS id, count("%[1]s") AS n, sum(length("%[1]s")) AS l FROM REC WHERE "%[1]s" IS NOT NULL GROUP BY ALL`, id.Name()))
			asked = append(asked, q{fold, id})
		}
	}
	res := recording.DuckQuery(t, dir, queries...)

	suffix := regexp.MustCompile(`_[0-9]+$`)
	seen := map[string]string{}
	for _, r := range res[0] {
		c := fmt.Sprint(r["c"])
		assert.False(t, suffix.MatchString(c), "column %s renamed by DuckDB", c)
		if o, dup := seen[strings.ToLower(c)]; dup {
			t.Errorf("columns %s and %s differ only in case", o, c)
		}
		seen[strings.ToLower(c)] = c
	}
	for _, members := range groups {
		for _, id := range members {
			assert.Contains(t, seen, strings.ToLower(id.Name()))
		}
	}
	for i, a := range asked {
		got := map[string]agg{}
		for _, r := range res[i+1] {
			got[fmt.Sprintf("%v/%d", r["c"], recording.Num(t, r["id"]))] = agg{recording.Num(t, r["n"]), recording.Num(t, r["l"])}
		}
		assert.Equal(t, want[a.fold], got, "SELECT %s returns every value of %s's group", a.spelling.Name(), a.fold.Name())
	}
}
