package enrich

// AccountLookup resolves a SID ("S-1-5-18") to the account name Sysmon
// shows ("NT AUTHORITY\SYSTEM"). It may be slow (a domain controller round
// trip): the enricher calls it only from its resolver's workers.
type AccountLookup interface {
	LookupAccount(sid string) (string, error)
}

// AccountFunc adapts a function to AccountLookup.
type AccountFunc func(sid string) (string, error)

func (f AccountFunc) LookupAccount(sid string) (string, error) { return f(sid) }
