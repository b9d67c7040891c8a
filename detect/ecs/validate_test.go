package ecs_test

import (
	"testing"

	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ecs/ecstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const miniSchema = `
'@timestamp': {flat_name: '@timestamp', type: date, required: true}
ecs.version: {flat_name: ecs.version, type: keyword, required: true}
event.kind: {flat_name: event.kind, type: keyword, allowed_values: [{name: alert}, {name: event}]}
event.category: {flat_name: event.category, type: keyword, normalize: [array], allowed_values: [{name: process}]}
event.severity: {flat_name: event.severity, type: long}
event.risk_score: {flat_name: event.risk_score, type: float}
process.pid: {flat_name: process.pid, type: long}
process.args: {flat_name: process.args, type: keyword, normalize: [array]}
source.ip: {flat_name: source.ip, type: ip}
dns.answers: {flat_name: dns.answers, type: object, normalize: [array]}
dns.answers.data: {flat_name: dns.answers.data, type: keyword}
labels: {flat_name: labels, type: object}
file.elf.header: {flat_name: file.elf.header, type: flattened}
`

func mini(t *testing.T) *ecs.Validator {
	s, err := ecs.ParseSchema([]byte(miniSchema))
	require.NoError(t, err)
	return &ecs.Validator{Schema: s, Custom: []string{"edr"}}
}

func TestValidateAcceptsGoodDocument(t *testing.T) {
	v := mini(t)
	line := `{"@timestamp":"2024-05-20T15:31:00.456Z","ecs":{"version":"9.4.0"},"event":{"kind":"alert","category":["process"],"severity":47,"risk_score":47.0},` +
		`"process":{"pid":6789,"args":["whoami","/all"]},"source":{"ip":"::ffff:10.0.0.1"},"dns":{"answers":[{"data":"x"}]},` +
		`"labels":{"anything":"goes"},"file":{"elf":{"header":{"free":{"form":1}}}},"edr":{"whatever":{"x":[1,2]}}}`
	assert.Empty(t, v.ValidateLine([]byte(line)))
}

func TestValidateReportsEveryProblem(t *testing.T) {
	v := mini(t)
	line := `{"ecs":{"version":9},"event":{"kind":"signalx","category":"process","severity":"high"},"process":{"pid":1.5,"unknown":1},` +
		`"source":{"ip":"not-an-ip"},"dns":{"answers":[{"nope":"x"}]},"process.pid":3,"labels":{"n":{"x":1}},"nonecs":true}`
	errs := v.ValidateLine([]byte(line))
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	assert.Equal(t, []string{
		"@timestamp: required field missing",
		"dns.answers.nope: not an ECS field",
		"ecs.version: ECS type keyword: needs a string, got number",
		`event.kind: value "signalx" not among ECS allowed values`,
		"event.severity: ECS type long: needs an integer, got string",
		"labels.n: nested value in a free-form object",
		"nonecs: not an ECS field",
		"process.pid: ECS type long: needs an integer, got 1.5",
		"process.pid: dotted key (documents must be nested)",
		"process.unknown: not an ECS field",
		`source.ip: ECS type ip: needs an IP address, got "not-an-ip"`,
	}, msgs)
}

func TestValidateRejectsNonObjects(t *testing.T) {
	v := mini(t)
	assert.Len(t, v.ValidateLine([]byte(`[1]`)), 1)
	assert.Len(t, v.ValidateLine([]byte(`{"a":1}{"b":2}`)), 1)
	assert.Len(t, v.ValidateLine([]byte(`{"a":`)), 1)
}

func TestSharedSchemaLoads(t *testing.T) {
	s := ecstest.Schema(t)
	assert.Greater(t, s.Len(), 2000)
	f, ok := s.Field("event.risk_score")
	require.True(t, ok)
	assert.Equal(t, "float", f.Type)
	f, ok = s.Field("event.kind")
	require.True(t, ok)
	assert.Contains(t, f.Allowed, "alert")
	f, ok = s.Field("threat.tactic.id")
	require.True(t, ok)
	assert.True(t, f.Array)
	// The reference's example alert (schema-reference §4.4) validates.
	ecstest.Validate(t, []string{"winlog", "sigma"}, []byte(exampleAlert))
}

const exampleAlert = `{"@timestamp":"2024-05-20T15:31:00.456Z","ecs":{"version":"9.4.0"},"message":"Enumerate All Information With Whoami.EXE","event":{"kind":"alert","category":["process"],"type":["start"],"action":"Process creation","code":"1","provider":"Microsoft-Windows-Sysmon","module":"replaylab","dataset":"replaylab.alerts","severity":47,"risk_score":47},"rule":{"id":"c248c896-e412-4279-8c15-1c558067b6fa","uuid":"c248c896-e412-4279-8c15-1c558067b6fa","name":"Enumerate All Information With Whoami.EXE","description":"Detects the execution of \"whoami.exe\" with the \"/all\" flag","reference":"https://example.org/","author":["Florian Roth (Nextron Systems)"],"license":"DRL-1.1","ruleset":"sigmahq/rules","version":"2024-03-05","category":"process_creation"},"threat":{"framework":"MITRE ATT&CK","tactic":{"id":["TA0007"],"name":["Discovery"],"reference":["https://attack.mitre.org/tactics/TA0007/"]},"technique":{"id":["T1033"],"reference":["https://attack.mitre.org/techniques/T1033/"]}},"tags":["attack.discovery","attack.t1033","car.2016-03-001"],"host":{"name":"desktop-abc123","os":{"type":"windows","family":"windows"}},"process":{"entity_id":"{aabbccdd-1122-3344-5566-77889900aabb}","pid":6789,"executable":"C:\\Windows\\System32\\whoami.exe","name":"whoami.exe","command_line":"whoami /all","args":["whoami","/all"],"args_count":2,"pe":{"original_file_name":"whoami.exe"},"parent":{"entity_id":"{aabbccdd-1122-3344-5566-000000000001}","pid":5544,"executable":"C:\\Windows\\System32\\cmd.exe","name":"cmd.exe"}},"user":{"domain":"CORP","name":"jdoe"},"related":{"user":["jdoe"]},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","event_id":"1","record_id":"90968","computer_name":"DESKTOP-ABC123","event_data":{"RuleName":"-","IntegrityLevel":"Medium","LogonId":"0x883f0","TerminalSessionId":"1"}},"sigma":{"level":"medium","status":"test","logsource":{"product":"windows","category":"process_creation"}}}`

func FuzzValidateLine(f *testing.F) {
	s, err := ecs.ParseSchema([]byte(miniSchema))
	if err != nil {
		f.Fatal(err)
	}
	v := &ecs.Validator{Schema: s, Custom: []string{"edr"}}
	f.Add([]byte(`{"@timestamp":"2024-05-20T15:31:00.456Z","ecs":{"version":"9.4.0"},"process":{"pid":1}}`))
	f.Add([]byte(`{"dns":{"answers":[{"data":"x"},3]},"labels":{"a":[1]}}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, line []byte) {
		_ = v.ValidateLine(line) // must not panic on any input
	})
}
