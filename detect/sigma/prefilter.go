package sigma

// prefilter is filled in below; nil means "evaluate every rule".
type prefilter struct{}

func buildPrefilter(entries []entry) *prefilter { return nil }

type candidates struct{}

func (p *prefilter) scan(c *evalCtx) *candidates { return nil }
func (c *candidates) has(i int) bool             { return true }
