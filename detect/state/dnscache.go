package state

import (
	"hash/maphash"
	"net/netip"
	"strings"

	"github.com/edr-lab/edr/event"
)

// DNSCache maps IP addresses back to the names DNS answers resolved to them,
// per host, so network alerts carry destination.domain even when the event
// has no DestinationHostname. Entries expire TTL after the answer in event
// time; the cache is LRU-bounded.
type DNSCache struct {
	entries *lru[dnsKey, dnsEntry]
	ttl     int64
	hosts   map[string]string // own copies of host names (ownKey)
	names   map[string]string // own copies of query names (ownName)

	Evicted uint64
}

type dnsKey struct {
	host string
	ip   netip.Addr
}

// hashDNSKey is the lru's hash of a dnsKey: the address's 16 bytes and
// the host hashed (answers repeat across hosts), cheaper than
// maphash.Comparable's field-by-field walk. An IPv4 address and its
// IPv4-mapped form hash alike and are told apart by comparing keys.
func hashDNSKey(seed maphash.Seed, k dnsKey) uint64 {
	a := k.ip.As16()
	return maphash.Bytes(seed, a[:]) ^ maphash.String(seed, k.host)*0x9e3779b97f4a7c15
}

// dnsEntry is an answer: name was resolved to k.ip on k.host at event time
// at.
type dnsEntry struct {
	k    dnsKey
	name string
	at   int64
}

func (e dnsEntry) key() dnsKey { return e.k }

// NewDNSCache makes a cache of at most max entries with a TTL in
// nanoseconds of event time.
func NewDNSCache(max int, ttl int64) *DNSCache {
	c := &DNSCache{ttl: ttl, hosts: map[string]string{}, names: map[string]string{}}
	c.entries = newLRU[dnsKey](max, func(dnsEntry) { c.Evicted++ })
	c.entries.hash = hashDNSKey
	return c
}

// Len is the number of addresses held.
func (c *DNSCache) Len() int { return c.entries.Len() }

// Observe learns the answers of a DNS query event (Sysmon 22, DNS-Client
// 3008/3020).
func (c *DNSCache) Observe(ev *event.Event) {
	switch {
	case ev.Channel == event.ChannelSysmon && ev.EventID == 22:
	case ev.Channel == event.ChannelDNSClient && (ev.EventID == 3008 || ev.EventID == 3020):
	default:
		return
	}
	name := strings.TrimSuffix(ev.Value(event.FQueryName), ".")
	if name == "" {
		return
	}
	owned := "" // name's own copy, once made
	eachQueryResult(ev.Value(event.FQueryResults), func(ip netip.Addr) {
		k := dnsKey{ev.Host, ip}
		n, existed, _ := c.entries.upsert(k)
		if existed {
			k = n.val.k // the key it was stored with, its host owned
		} else {
			k = c.ownKey(k)
		}
		if owned == "" {
			// Own copies: the event's strings may point into large shared
			// buffers that a cached entry would keep alive. A repeated
			// answer reuses the name it already holds.
			if existed && n.val.name == name {
				owned = n.val.name
			} else {
				owned = c.ownName(name)
			}
		}
		n.val = dnsEntry{k, owned, ev.Time}
	})
}

// ownName returns a copy of name of the cache's own, one per name while
// at most max names are known (then they are forgotten and start over).
func (c *DNSCache) ownName(name string) string {
	if s, ok := c.names[name]; ok {
		return s
	}
	if len(c.names) >= c.entries.max {
		clear(c.names)
	}
	s := strings.Clone(name)
	c.names[s] = s
	return s
}

// maxHosts bounds the host names the cache keeps one copy of; more get a
// copy per entry.
const maxHosts = 4096

// ownKey gives a new entry a host name of its own, shared by the entries
// of one host.
func (c *DNSCache) ownKey(k dnsKey) dnsKey {
	if h, ok := c.hosts[k.host]; ok {
		k.host = h
		return k
	}
	k.host = strings.Clone(k.host)
	if len(c.hosts) < maxHosts {
		c.hosts[k.host] = k.host
	}
	return k
}

// Lookup returns the last name resolved to ip on host, if the answer is not
// older than the TTL at event time at.
func (c *DNSCache) Lookup(host, ip string, at int64) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	e, ok := c.entries.Peek(dnsKey{host, addr.Unmap()}) // lookups leave recency alone (see ProcessTable)
	if !ok || at-e.at > c.ttl || e.at > at {
		return ""
	}
	return e.name
}

// ParseQueryResults extracts the addresses of a Sysmon QueryResults value
// ("type:  5 cname;::ffff:1.2.3.4;2001:db8::1;"); IPv4-mapped addresses are
// unmapped, non-address records skipped.
func ParseQueryResults(s string) []netip.Addr {
	var out []netip.Addr
	eachQueryResult(s, func(a netip.Addr) { out = append(out, a) })
	return out
}

// eachQueryResult calls fn with each address of a QueryResults value, in
// order, without allocating.
func eachQueryResult(s string, fn func(netip.Addr)) {
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ";")
		part = strings.TrimSpace(part)
		if part == "" || strings.HasPrefix(part, "type:") {
			continue
		}
		// CNAME records are names: parsing them as addresses only
		// allocates an error. An address has a ':' (IPv6) or starts and
		// ends with a digit (IPv4).
		if strings.IndexByte(part, ':') < 0 && !(isDigit(part[0]) && isDigit(part[len(part)-1])) {
			continue
		}
		if a, err := netip.ParseAddr(part); err == nil {
			fn(a.Unmap())
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
