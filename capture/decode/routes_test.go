package decode

import "github.com/edr-lab/edr/capture/raw"

type routeKey struct {
	p  raw.ProviderID
	id uint16
}

// routes lists every routed provider event id with its handler.
func routes() map[routeKey]handler {
	m := map[routeKey]handler{}
	for _, p := range providers {
		for i, id := range p.ids {
			m[routeKey{p.id, id}] = p.hs[i]
		}
	}
	return m
}
