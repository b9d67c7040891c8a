package state

import (
	"strings"
	"sync"
)

// Shared lets process tables that see the same events, on goroutines of
// their own, hold one Process per process started instead of one each:
// edr live's Enricher mirror (capture/enrich), its recording tracker and
// its engine had three copies of tens of thousands of processes, strings
// included. A table that starts a process takes the one another table
// built from the same creation event when it is equal in every value to
// the one it would build (the event's values and what the table filled
// in from its own state, so tables with different bounds, TTLs or
// history share only where they agree); otherwise it builds its own and
// offers that. Which copy a table holds never changes a value it
// answers: the state of every table stays a function of its own events.
//
// The processes it hands out are shared (never changed, see Process). It
// keeps the last sharedRecent processes offered: enough for the tables of
// one pipeline, whose distance is a few queues of events; a table further
// behind builds its own copies. It is safe for concurrent use.
type Shared struct {
	mu     sync.Mutex
	byKey  map[procKey]*Process
	recent []*Process // ring of the processes offered, oldest at next
	next   int
}

// sharedRecent is how many processes a Shared keeps offered.
const sharedRecent = 4096

// NewShared returns an empty Shared.
func NewShared() *Shared {
	return &Shared{byKey: make(map[procKey]*Process, sharedRecent), recent: make([]*Process, sharedRecent)}
}

// take returns the process offered under c's key if it equals c, whose
// File is file and whose User is domain\User (as own joins them), or nil.
func (s *Shared) take(c *Process, file *FileInfo, domain string) *Process {
	s.mu.Lock()
	p := s.byKey[c.key()]
	s.mu.Unlock()
	if p == nil || !p.sameStart(c, file, domain) {
		return nil
	}
	return p
}

// put offers p, a shared process whose strings are owned.
func (s *Shared) put(p *Process) {
	s.mu.Lock()
	if old := s.recent[s.next]; old != nil {
		if k := old.key(); s.byKey[k] == old {
			delete(s.byKey, k)
		}
	}
	s.recent[s.next] = p
	s.next = (s.next + 1) % len(s.recent)
	s.byKey[p.key()] = p
	s.mu.Unlock()
}

// sameStart reports whether p, a started process of a table, has the
// values of c built with file and domain (ProcessTable.start).
func (p *Process) sameStart(c *Process, file *FileInfo, domain string) bool {
	if domain == "-" {
		domain = ""
	}
	user := p.User == c.User
	if domain != "" {
		user = len(p.User) == len(domain)+1+len(c.User) && strings.HasPrefix(p.User, domain) &&
			p.User[len(domain)] == '\\' && strings.HasSuffix(p.User, c.User)
	}
	return user && !p.Partial && p.End == 0 && p.Start == c.Start && *p.FileInfo() == *file &&
		p.Host == c.Host && p.GUID == c.GUID && p.PID == c.PID &&
		p.Image == c.Image && p.CommandLine == c.CommandLine && p.CurrentDirectory == c.CurrentDirectory &&
		p.ParentGUID == c.ParentGUID && p.ParentPID == c.ParentPID && p.ParentImage == c.ParentImage &&
		p.ParentCommand == c.ParentCommand && p.ParentUser == c.ParentUser
}
