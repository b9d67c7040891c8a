package capture

import "github.com/edr-lab/edr/capture/raw"

// Session says which real-time session a provider is enabled in.
type Session uint8

const (
	// SessionProcess is the low-latency session: small buffers flushed
	// often, so short-lived processes are seen before they exit and process
	// starts are not lost in bursts behind file/registry volume.
	SessionProcess Session = iota
	// SessionBulk is the burst-tolerant session for everything else: large
	// buffers, many of them.
	SessionBulk
)

func (s Session) String() string {
	if s == SessionProcess {
		return "process"
	}
	return "bulk"
}

// Trace levels (EVENT_DESCRIPTOR.Level): a provider enabled at level L
// delivers events of level ≤ L (0 "Always" included).
const (
	LevelInformation uint8 = 4
	LevelVerbose     uint8 = 5
)

// Provider is one row of the provider table: everything the ETW session
// needs to enable a provider, and everything the decoders route on.
type Provider struct {
	Name string
	GUID raw.ProviderID
	// Keywords is MatchAnyKeyword; 0 enables every keyword (used where the
	// event-ID filter does the selecting).
	Keywords uint64
	// KeywordNames are the manifest names of the bits in Keywords, so the
	// table can be checked against the manifest notes.
	KeywordNames []string
	Level        uint8
	// EventIDs is the EVENT_FILTER_TYPE_EVENT_ID allowlist pushed into
	// EnableTraceEx2 (empty: no filter).
	EventIDs []uint16
	Session  Session
	// RegistryCapturedData asks Kernel-Registry for value data
	// (CapturedData) through its undocumented 4-byte filter payload 0x2
	// (rustinel-notes §10.4); without it SetValueKey carries no data.
	RegistryCapturedData bool
}

// Provider GUIDs (etw-notes Part B2; Kernel-File is the registered
// c2560fb5c289 GUID, not the seed tool's 63462d3f77bd which matches no
// provider and delivered nothing).
var (
	KernelProcess  = raw.MustGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716")
	KernelFile     = raw.MustGUID("edd08927-9cc4-4e65-b970-c2560fb5c289")
	KernelRegistry = raw.MustGUID("70eb4f03-c1de-4f73-a051-33d13d5413bd")
	KernelNetwork  = raw.MustGUID("7dd42a49-5329-4832-8dfd-43d979153a88")
	DNSClient      = raw.MustGUID("1c95126e-7eea-49a9-a3fe-a378b03ddb4d")
	PowerShell     = raw.MustGUID("a0c1853b-5c40-4b15-8766-3cf1c58f985a")
	WMIActivity    = raw.MustGUID("1418ef04-b0b4-4623-bf7e-d74ab47bbdaa")
	TaskScheduler  = raw.MustGUID("de7b24ea-73c8-4a09-985d-5bdadcfa9017")
)

// Providers is the one table of ETW providers edr enables.
var Providers = []Provider{
	{
		Name: "Microsoft-Windows-Kernel-Process", GUID: KernelProcess,
		Keywords: 0x10 | 0x40, KeywordNames: []string{"PROCESS", "IMAGE"},
		Level: LevelInformation, Session: SessionProcess,
	},
	{
		Name: "Microsoft-Windows-Kernel-File", GUID: KernelFile,
		Keywords:     0x10 | 0x20 | 0x80 | 0x200 | 0x400 | 0x800,
		KeywordNames: []string{"FILENAME", "FILEIO", "CREATE", "WRITE", "DELETE_PATH", "RENAME_SETLINK_PATH"},
		Level:        LevelInformation, Session: SessionBulk,
		// name create/delete, create, close (evicts the name index),
		// write, set-information, delete/rename/set-link path.
		EventIDs: []uint16{10, 11, 12, 14, 16, 17, 26, 27, 28},
	},
	{
		Name: "Microsoft-Windows-Kernel-Registry", GUID: KernelRegistry,
		// Writes, plus OpenKey and CloseKey which name and evict KeyObjects.
		Keywords:     0x1 | 0x100 | 0x200 | 0x1000 | 0x2000 | 0x4000,
		KeywordNames: []string{"CloseKey", "SetValueKey", "DeleteValueKey", "CreateKey", "OpenKey", "DeleteKey"},
		Level:        LevelInformation, Session: SessionBulk,
		EventIDs:             []uint16{1, 2, 3, 5, 6, 13},
		RegistryCapturedData: true,
	},
	{
		Name: "Microsoft-Windows-Kernel-Network", GUID: KernelNetwork,
		Keywords: 0x10 | 0x20, KeywordNames: []string{"IPV4", "IPV6"},
		Level: LevelInformation, Session: SessionBulk,
		// TCP connect/accept v4/v6 and UDP send/recv v4/v6.
		EventIDs: []uint16{12, 15, 28, 31, 42, 43, 58, 59},
	},
	{
		Name: "Microsoft-Windows-DNS-Client", GUID: DNSClient,
		Level: LevelInformation, Session: SessionBulk, EventIDs: []uint16{3006, 3008},
	},
	{
		Name: "Microsoft-Windows-PowerShell", GUID: PowerShell,
		Keywords: 0x1 | 0x20, KeywordNames: []string{"Runspace", "Cmdlets"},
		// 4104 is Verbose: at level 4 only the "suspicious" warning-level
		// script blocks would arrive.
		Level: LevelVerbose, Session: SessionBulk, EventIDs: []uint16{4103, 4104},
	},
	{
		Name: "Microsoft-Windows-WMI-Activity", GUID: WMIActivity,
		Level: LevelInformation, Session: SessionBulk,
		// 19/20 left out: they alias Sysmon's WMI IDs. 5857–5861 are the
		// provider-load, error and event-consumer events rules read.
		EventIDs: []uint16{1, 2, 11, 12, 14, 15, 16, 17, 22, 23, 24, 5857, 5858, 5859, 5860, 5861},
	},
	{
		Name: "Microsoft-Windows-TaskScheduler", GUID: TaskScheduler,
		Level: LevelInformation, Session: SessionBulk, EventIDs: []uint16{106, 140, 141},
	},
}

// ProviderByGUID returns the table row of a provider, nil when unknown.
func ProviderByGUID(g raw.ProviderID) *Provider {
	for i := range Providers {
		if Providers[i].GUID == g {
			return &Providers[i]
		}
	}
	return nil
}
