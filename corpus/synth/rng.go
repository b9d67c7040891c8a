package synth

// rng is xoshiro256** seeded by splitmix64. It is defined here rather than
// taken from math/rand so that a seed yields the same stream on every Go
// version and architecture (the generator promises byte-identical
// recordings for the same options). No floating point is used anywhere in
// the generator for the same reason.
type rng struct{ s0, s1, s2, s3 uint64 }

func newRNG(seed uint64) rng {
	var r rng
	sm := seed
	next := func() uint64 {
		sm += 0x9e3779b97f4a7c15
		z := sm
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	r.s0, r.s1, r.s2, r.s3 = next(), next(), next(), next()
	return r
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

func (r *rng) next() uint64 {
	out := rotl(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = rotl(r.s3, 45)
	return out
}

// intn returns a value in [0, n) for 0 < n < 2^32 (Lemire's multiply-shift;
// the bias is below 2^-32 and irrelevant here).
func (r *rng) intn(n int) int {
	return int(((r.next() >> 32) * uint64(n)) >> 32)
}

// chance reports true with probability num/den.
func (r *rng) chance(num, den int) bool { return r.intn(den) < num }

// fork derives an independent stream, so that adding draws in one part of the
// generator does not shift every value drawn after it elsewhere.
func (r *rng) fork() rng { return newRNG(r.next()) }

// alias is Vose's alias table over integer weights: O(1) weighted picks
// with integer arithmetic only (deterministic everywhere).
type alias struct {
	prob  []uint32 // keep i when a 32-bit draw is below prob[i]
	alias []int32
}

func newAlias(w []int) alias {
	n := len(w)
	var total uint64
	for _, v := range w {
		total += uint64(v)
	}
	a := alias{prob: make([]uint32, n), alias: make([]int32, n)}
	// scaled[i] = w[i]*n; an entry is "full" at total.
	scaled := make([]uint64, n)
	var small, large []int
	for i, v := range w {
		scaled[i] = uint64(v) * uint64(n)
		if scaled[i] < total {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = uint32(scaled[s] << 32 / total)
		a.alias[s] = int32(l)
		scaled[l] -= total - scaled[s]
		if scaled[l] < total {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		a.prob[i] = 1<<32 - 1
		a.alias[i] = int32(i)
	}
	return a
}

func (r *rng) pick(a *alias) int {
	x := r.next()
	i := int(((x >> 32) * uint64(len(a.prob))) >> 32)
	if uint32(x) < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}

// zipfWeights are Zipf-like weights 1/(i+1) in integers.
func zipfWeights(n int) []int {
	w := make([]int, n)
	for i := range w {
		w[i] = 1_000_000/(i+1) + 1
	}
	return w
}
