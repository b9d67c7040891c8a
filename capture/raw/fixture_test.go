package raw

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FixtureDir is where the recorded ETW fixtures live under EDR_SHARED.
func fixtureDir(t testing.TB) string {
	return testutil.Shared(t, "etw/rustinel-fixtures/tests/fixtures/etw")
}

func load(t testing.TB, name string) *Fixture {
	fx, err := LoadFixtureFile(filepath.Join(fixtureDir(t), name))
	require.NoError(t, err)
	return fx
}

func TestLoadFixtureCountsAndProvenance(t *testing.T) {
	// Record counts from shared/etw/README.md §3.1.
	want := map[string]int{"dns_query.json": 4, "file_lifecycle.json": 58, "image_load.json": 1,
		"network_connect.json": 1, "powershell_module_logging.json": 1, "powershell_script_block.json": 1,
		"process_lifecycle.json": 2, "registry_lifecycle.json": 10, "task_registered.json": 1, "wmi_activity.json": 5}
	for name, n := range want {
		fx := load(t, name)
		assert.Len(t, fx.Records, n, name)
		assert.Equal(t, name == "powershell_script_block.json", fx.Provenance.Synthetic(), name)
		assert.Equal(t, "lab-windows", fx.Provenance.Host, name)
	}
}

func TestLoadFixtureValues(t *testing.T) {
	fx := load(t, "registry_lifecycle.json")
	r := fx.Records[0]
	assert.Equal(t, "70eb4f03-c1de-4f73-a051-33d13d5413bd", r.Provider.String())
	assert.Equal(t, uint16(2), r.EventID)
	assert.Equal(t, uint8(33), r.Opcode)
	assert.Equal(t, uint32(6340), r.PID)
	// Beyond 2^53: a float64 round trip would give …358400.
	v, ok := r.Uint("BaseObject")
	require.True(t, ok)
	assert.Equal(t, uint64(18446652867923358432), v)
	v, ok = r.Uint("KeyObject")
	assert.True(t, ok)
	assert.Zero(t, v)
	s, ok := r.Str("BaseName")
	assert.True(t, ok, "an empty string is present, not absent")
	assert.Empty(t, s)
	_, ok = r.Str("KeyName")
	assert.False(t, ok)

	b, ok := fx.Records[5].Bytes("CapturedData")
	require.True(t, ok)
	assert.Equal(t, []byte{1, 0, 0, 0}, b)
	assert.Equal(t, Binary, fx.Records[5].Prop("CapturedData").Kind)

	p := load(t, "process_lifecycle.json").Records[0]
	assert.Equal(t, SID, p.Prop("MandatoryLabel").Kind)
	assert.Equal(t, String, p.Prop("ImageName").Kind)
	// README §2.3: 134360063001409789 is 2026-10-09T07:58:20.1409789Z.
	p.Timestamp = 134360063001409789
	assert.Equal(t, "2026-10-09T07:58:20.1409789Z", p.Time().Format("2006-01-02T15:04:05.9999999Z"))
}

func TestLoadFixtureSortsUnsortedBag(t *testing.T) {
	fx := load(t, "powershell_script_block.json")
	var names []string
	for _, p := range fx.Records[0].Props {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"MessageNumber", "MessageTotal", "Path", "ScriptBlockId", "ScriptBlockText"}, names)
}

const hdr = `"header":{"provider":"7dd42a49-5329-4832-8dfd-43d979153a88","event_id":12,"opcode":12,"version":0,"process_id":4,"timestamp":134360063011976308}`

func TestLoadFixtureLines(t *testing.T) {
	in := "{" + hdr + `,"properties":{"dport":{"u16":47873}}}` + "\n\n{" + hdr + `,"properties":{"A":{"ip":"::1"}}}` + "\n"
	fx, err := LoadFixture(strings.NewReader(in), "cap.jsonl")
	require.NoError(t, err)
	require.Len(t, fx.Records, 2)
	assert.False(t, fx.Provenance.Synthetic())
	v, _ := fx.Records[0].Uint("dport")
	assert.Equal(t, uint64(47873), v)
	s, _ := fx.Records[1].Str("A")
	assert.Equal(t, "::1", s)
}

func TestLoadFixtureErrors(t *testing.T) {
	prov := `"provenance":{"windows_build":"w","recorded":"2026-01-01","host":"h","scenario":"s"}`
	cases := map[string]string{
		`{` + prov + `,"records":[]}`:                                                                      "x.json: records is empty",
		`{"provenance":{"windows_build":"w"},"records":[{}]}`:                                              "x.json: provenance.recorded missing",
		`{` + prov + `,"records":[{` + hdr + `,"properties":{"a":{"u8":300}}}]}`:                           "x.json: records[0]: properties.a: u8 300: not a u8",
		`{` + prov + `,"records":[{` + hdr + `,"properties":{"a":{"u64":1.5}}}]}`:                          "records[0]: properties.a: u64 1.5",
		`{` + prov + `,"records":[{` + hdr + `,"properties":{"a":{"bytes":"0g"}}}]}`:                       "records[0]: properties.a: bytes: not hex",
		`{` + prov + `,"records":[{` + hdr + `,"properties":{"a":{"u8":1,"u16":2}}}]}`:                     "want one tagged member",
		`{` + prov + `,"records":[{` + hdr + `,"properties":{"a":{"f64":1}}}]}`:                            "unknown tag",
		`{` + prov + `,"records":[{"header":{"provider":"zz"},"properties":{}}]}`:                          `header.provider "zz"`,
		`{` + prov + `,"records":[{` + strings.Replace(hdr, `"version":0,`, "", 1) + `,"properties":{}}]}`: "header.version missing",
		`{` + prov + `,"records":[{` + hdr + `}]}`:                                                         "no properties",
		"{" + hdr + `,"properties":{}}` + "\n{bad\n":                                                       "x.json:2:",
		"  ": "empty file",
	}
	for in, want := range cases {
		_, err := LoadFixture(strings.NewReader(in), "x.json")
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want, in)
		}
	}
}

func FuzzLoadFixture(f *testing.F) {
	f.Add([]byte("{" + hdr + `,"properties":{"a":{"u64":18446652867923358432},"b":{"bytes":"00ff"},"c":{"string":"S-1-16-12288"}}}`))
	f.Add([]byte(`{"provenance":{"windows_build":"w","recorded":"r","host":"h","scenario":"SYNTHETIC. x"},"records":[{` + hdr + `,"properties":{}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fx, err := LoadFixture(strings.NewReader(string(b)), "fuzz")
		if err != nil {
			return
		}
		require.NotEmpty(t, fx.Records)
		for _, r := range fx.Records {
			for i := range r.Props {
				p := &r.Props[i]
				require.NotNil(t, r.Prop(p.Name))
			}
		}
	})
}
