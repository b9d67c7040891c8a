//go:build windows

package enrich

import "golang.org/x/sys/windows"

// LocalAccounts is the live AccountLookup: LookupAccountSid on the local
// system (which asks the domain for domain SIDs).
type LocalAccounts struct{}

func (LocalAccounts) LookupAccount(sid string) (string, error) {
	s, err := windows.StringToSid(sid)
	if err != nil {
		return "", err
	}
	account, domain, _, err := s.LookupAccount("")
	if err != nil {
		return "", err
	}
	if domain == "" {
		return account, nil
	}
	return domain + `\` + account, nil
}
