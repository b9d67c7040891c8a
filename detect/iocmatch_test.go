package detect_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIOCMatcherAlerts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	set, errs := ioc.Load(ioc.Paths{
		IPs:     write("ips.txt", "203.0.113.0/24;test range\n2001:db8::/32;v6\n"),
		Domains: write("domains.txt", "*.evil.example;zone\n"),
		Hashes:  write("hashes.txt", "44d88612fea8a8f36de82e1278abb02f;EICAR\n"),
	}, ioc.Options{})
	require.Empty(t, errs)
	m := detect.NewIOCMatcher(set, detect.SeverityHigh)
	assert.True(t, m.UsesField(event.FDestinationIp))
	assert.False(t, m.UsesField(event.FGrandParentImage))
	sink := detecttest.NewSink(t)
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{m}, Sink: sink})
	require.NoError(t, err)
	for _, ev := range []*event.Event{
		detecttest.Sysmon(3, t0, "H", "Image", `C:\x.exe`, "DestinationIp", "203.0.113.5", "DestinationPort", "443"),
		detecttest.Sysmon(3, t0+1, "H", "Image", `C:\x.exe`, "DestinationIp", "2001:db8::5", "DestinationPort", "443"),
		detecttest.Sysmon(22, t0+2, "H", "Image", `C:\x.exe`, "QueryName", "c2.evil.example"),
		detecttest.Sysmon(1, t0+3, "H", "Image", `C:\eicar.com`, "Hashes", "MD5=44D88612FEA8A8F36DE82E1278ABB02F"),
		detecttest.Sysmon(3, t0+4, "H", "Image", `C:\x.exe`, "DestinationIp", "192.0.2.1"),
	} {
		require.NoError(t, eng.Process(ev))
	}
	assert.Equal(t, []string{"IOC match: ip", "IOC match: ip", "IOC match: domain", "IOC match: md5"}, sink.Rules())
	assert.Contains(t, string(sink.Lines[0]), `"threat":{"enrichments":[{"indicator":{"type":"ipv4-addr","description":"test range","provider":"edr","reference":"`)
	assert.Contains(t, string(sink.Lines[1]), `"type":"ipv6-addr"`)
	assert.Contains(t, string(sink.Lines[3]), `"matched":{"atomic":"44D88612FEA8A8F36DE82E1278ABB02F","field":"Hashes","type":"indicator_match_rule","id":"44d88612fea8a8f36de82e1278abb02f"}`)
	for _, a := range sink.Alerts {
		assert.Equal(t, detect.SeverityHigh, a.Severity)
	}
}
