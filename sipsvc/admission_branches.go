package sipsvc

import "hash/maphash"

// branchWays is how many branches one bucket of a branchSet holds.
const branchWays = 8

// branchBuckets is how many buckets a branchSet has: room for twice recentInvites branches,
// so the last recentInvites are nearly all still there (a bucket holds its last branchWays).
const branchBuckets = 2 * recentInvites / branchWays

// branchSet remembers the recent branches of refused INVITEs by a 64-bit hash (seeded per
// process, so a sender cannot aim at a bucket), in a fixed table of buckets: each bucket
// keeps its last branchWays, the oldest replaced first. Adding and finding a branch neither
// allocates nor touches a map. Two branches of the same hash (one in 2^64) are one; a
// branch pushed out of its full bucket is forgotten early, which costs only its ACK going
// up to sipgo (which drops an ACK matching no transaction). Not safe for concurrent use.
type branchSet struct {
	seed    maphash.Seed
	buckets [branchBuckets][branchWays]uint64
}

// newBranchSet returns an empty set.
func newBranchSet() *branchSet { return &branchSet{seed: maphash.MakeSeed()} }

// hash is branch's key (never 0, which marks an empty slot).
func (s *branchSet) hash(branch []byte) uint64 { return maphash.Bytes(s.seed, branch) | 1 }

// add remembers branch.
func (s *branchSet) add(branch []byte) {
	h := s.hash(branch)
	b := &s.buckets[(h>>1)%branchBuckets]
	for i, v := range b {
		if v == h {
			return
		}
		if v == 0 {
			b[i] = h
			return
		}
	}
	copy(b[:], b[1:]) // full: the oldest goes
	b[branchWays-1] = h
}

// has reports whether branch is remembered.
func (s *branchSet) has(branch []byte) bool {
	h := s.hash(branch)
	b := &s.buckets[(h>>1)%branchBuckets]
	for _, v := range b {
		if v == h {
			return true
		}
		if v == 0 {
			return false
		}
	}
	return false
}
