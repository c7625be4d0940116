package shard

import (
	"hash/maphash"
	"iter"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Map is a hash map split into shards, for maps that many goroutines read
// and some write at once. Reads take no lock and write no shared memory.
//
// Keys are hashed with a seed drawn per map (the runtime's seeded hash, as
// in hash/maphash), so which keys share a shard or a bucket differs from map
// to map and run to run: a client cannot aim keys at one shard or one
// bucket. Each shard is an open-addressing table of buckets that each fill
// one 64-byte cache line: seven pointers to entries and a meta word holding
// seven bits of each key's hash, so Load compares seven hash bytes at once
// and dereferences only the entry that matches. Load runs with atomic loads
// only, so readers on every CPU proceed in parallel and never wait for a
// writer; writers take the shard's mutex. Overwriting a word-sized value (an
// int, a pointer, a struct of at most eight bytes) writes it into its entry
// in place with one atomic store and allocates nothing; a larger value is
// published as a new entry (one allocation: the price of lock-free reads),
// as is every new key. Shards' locks are padded apart so two never share a
// cache line, and what readers use to find each shard's table is packed
// apart from the locks, so writers never invalidate the line a reader needs
// first. A lookup follows as few pointers as a single-table map does: the
// map, the shard's table reference, the bucket, the entry. But which table
// reference it follows depends on the key's hash, so that load waits for the
// hash, where a single table's header is loaded while the key is hashed: on
// a few hot keys that stay in the cache, one goroutine pays that one load on
// every lookup, which a single-table map does not. String keys make up for
// it: they are hashed by the runtime's string hash called directly, not
// through the generic path (see hash).
//
// Where it wins and where it loses (BenchmarkMap; the figures for your
// hardware come from cmd/breakeven): with several goroutines it costs less
// than one map under a sync.RWMutex, whose reader count every Load writes,
// on every mix from 1% to 50% writes. With one goroutine it costs about
// what the plain locked map does: less on skewed keys, and more than a map
// under a sync.Mutex when half the operations are writes on spread-out keys
// (one lock keeps the data in one core's cache). It costs less than
// sync.Map on every mix, and allocates less per write.
//
// LoadOrCompute makes it a cache that computes each missing value once
// however many goroutines ask for it at the same moment.
//
// The zero Map is ready to use (as are maps from [NewMap]): nothing is
// allocated until the first write, so an empty map is a few words at any
// GOMAXPROCS. A Map is safe for concurrent use and must not be copied after
// first use.
type Map[K comparable, V any] struct {
	_ noCopy
	// tables points at the first of len(shards) table references (see
	// tableRef), shard i's at index i; nil until the first write. Every
	// field below it is written once, by init, before tables is published,
	// and read only after a load of tables returned non-nil.
	tables    atomic.Pointer[tableRef]
	seed      maphash.Seed
	strSeed   uintptr  // nonzero: K is a string type, hashed with memhash and this seed (see hash)
	shardMask uint64   // len(shards)-1: the hash's top 16 bits, masked, pick the shard (see shardOf)
	words     wordKind // how values are read and overwritten (see valueCell)
	valEq     bool     // V is comparable, for CompareAndSwap and CompareAndDelete
	buckets   int      // a shard's first table size, from WithCapacity
	shards    []mapShard[K, V]
	initMu    sync.Mutex
	cfg       mapConfig // set by NewMap, read by init
}

// entry is one key and its value. The key never changes once the entry is
// published, so a reader that loads a pointer to an entry sees a whole key;
// the value is immutable too unless it is word-sized (see valueCell).
type entry[K comparable, V any] struct {
	key K
	val valueCell[V]
}

// bucketSlots is the number of entries per bucket: with the meta word, a
// bucket fills one 64-byte cache line (newBuckets makes it start on one).
const bucketSlots = 7

// bucket is one cache line of a table: seven slots and a meta word whose
// byte i describes slot i (metaEmpty, metaDeleted, or 0x80 | seven bits of
// the key's hash). A reader compares all seven hash bytes at once and
// dereferences only the entries whose byte matches, so a lookup usually
// touches this line and the one entry it wants.
type bucket[K comparable, V any] struct {
	meta  atomic.Uint64
	slots [bucketSlots]atomic.Pointer[entry[K, V]]
}

const (
	metaEmpty   = 0x00 // never used since the table was built: ends a probe
	metaDeleted = 0x01 // deleted: a probe goes on past it
	lsb         = 0x0101010101010101
	msb         = 0x0080808080808080 // the high bit of each slot's byte (byte 7 is unused)
)

// h2 is the byte stored in meta for a live key with hash h. Its seven bits
// come from the middle of the hash: the high bits pick the shard and the low
// bits the bucket.
func h2(h uint64) uint64 { return 0x80 | (h>>32)&0x7f }

// matches returns a mask with the high bit of byte i set if slot i may hold
// a key whose h2 is b. It can report a slot that does not match (the caller
// compares keys), never miss one that does.
func matches(meta, b uint64) uint64 {
	x := meta ^ (lsb * b)
	return (x - lsb) &^ x & msb
}

// hasEmpty reports whether some slot of meta is metaEmpty; it is exact.
func hasEmpty(meta uint64) bool { return (meta-lsb)&^meta&msb != 0 }

// table is one shard's open-addressing table: buckets probed linearly from
// the hash's low bits. Writers change slots and meta under the shard lock;
// readers load them without it. Growing builds a new table and publishes it
// whole (see tableRef).
type table[K comparable, V any] struct {
	buckets []bucket[K, V]
	mask    uint64
}

// tableRef is how lock-free readers find a shard's table: its first bucket
// and its mask side by side, so that a lookup's chain of dependent loads is
// the map, this reference, the bucket, the entry, with no table header
// between (which costs every lookup measurably).
//
// Two words cannot be stored at once, so a reader may load the mask of one
// table and the pointer of the next. A shard's mask never shrinks, and a
// writer stores the pointer before the mask: a reader that loads the mask
// first and then the pointer has a mask no larger than its table's, so it
// stays inside the table. A smaller mask may start the probe in the wrong
// bucket and miss a key that is there, so a miss checks the mask against
// the table's own (see ownMask) and, if they differ, probes again with the
// table's. A hit needs no check: the entry found is k's.
//
// It is not generic (the buckets are an unsafe.Pointer to a *bucket[K, V])
// so that Load reaches it without going through the generic dictionary.
type tableRef struct {
	mask    atomic.Uint64
	buckets unsafe.Pointer // *bucket[K, V], atomic; nil: the shard has no table
}

// load returns r's buckets and mask (see tableRef for the order).
func (r *tableRef) load() (unsafe.Pointer, uint64) {
	mask := r.mask.Load()
	return atomic.LoadPointer(&r.buckets), mask
}

// ownMask returns the mask of the table whose first bucket is base: newTable
// writes its log2 into the byte of the first bucket's meta word that no
// slot uses, and no write changes it after.
func ownMask[K comparable, V any](base *bucket[K, V]) uint64 {
	return 1<<(base.meta.Load()>>56) - 1
}

// mapShard is one shard's lock and bookkeeping, padded so that neighbouring
// shards' locks never share a cache line (see cellSize). What readers use
// to find the shard's table is not here but in the array Map.tables points
// at, packed with the other shards' in a few lines that only growth writes:
// readers never touch a line that writers' locking keeps invalidating. The
// counters are written under mu but read with atomic loads, so Len and
// Stats take no lock.
type mapShard[K comparable, V any] struct {
	mu      sync.Mutex
	used    atomic.Int64                // live entries
	writes  atomic.Uint64               // write operations
	growths atomic.Uint64               // tables rebuilt larger
	tombs   int                         // deleted slots not yet reclaimed, under mu
	pending *computation[K, V]          // LoadOrCompute calls running fn, under mu
	spare   *computation[K, V]          // a finished one nobody waited on, to reuse; under mu
	table   atomic.Pointer[table[K, V]] // nil: empty; stored only by publish
	ref     *tableRef                   // this shard's entry in Map.tables
	_       [cellSize - 72]byte
}

// computation is one LoadOrCompute call running fn for an absent key; other
// callers for that key wait for it and take val. One that nobody waited on
// is kept for the shard's next computation, so that a miss allocates only
// its entry. A shard's computations form a list, searched and changed under
// its lock: it holds one per key being computed in the shard at the moment,
// which is few, and costs less to add to and remove from than a map.
type computation[K comparable, V any] struct {
	next *computation[K, V] // the shard's next one, under mu
	h    uint64             // k's hash
	k    K
	// running is locked from before the computation is listed until fn
	// has returned or panicked and its result is stored; a waiter waits by
	// locking it, then unlocks it for the next waiter. Mutex.Lock spins
	// briefly before it parks the goroutine, and a short fn often ends
	// within the spin: the waiter does not pay for being parked and woken,
	// which can cost far more than a short fn (a parked waiter's P goes
	// idle, and the wake-up waits for the scheduler to give it a P again).
	running sync.Mutex
	waiters int // callers that found it in the list, under mu: with none, it is reused
	val     V
	ok      bool // fn returned (false: it panicked or called runtime.Goexit, and nothing was stored)
}

const minBuckets = 2

// newTable returns an empty table of n buckets, a power of two, with its
// mask's log2 in byte 7 of the first bucket's meta word (see ownMask).
func newTable[K comparable, V any](n int) *table[K, V] {
	t := &table[K, V]{buckets: newBuckets[K, V](n), mask: uint64(n - 1)}
	t.buckets[0].meta.Store(uint64(bits.TrailingZeros(uint(n))) << 56)
	return t
}

// publish makes t (nil: no table) s's table, for writers and readers
// (locked). t's mask is at least the published one (see tableRef): the
// pointer first, then the mask.
func publish[K comparable, V any](s *mapShard[K, V], t *table[K, V]) {
	s.table.Store(t)
	if t == nil {
		atomic.StorePointer(&s.ref.buckets, nil)
		return
	}
	atomic.StorePointer(&s.ref.buckets, unsafe.Pointer(&t.buckets[0]))
	s.ref.mask.Store(t.mask)
}

// defaultShardsPerP sets the default shard count: 8 per P. Shards serve
// writers only (readers take no lock), so past a few per P the count barely
// matters (BenchmarkMapShards sweeps it); 8 per P keeps two writers on one
// lock unlikely while a map's first write allocates 136 bytes per shard.
const defaultShardsPerP = 8

// NewMap returns an empty Map. See [WithShards] for the number of shards and
// [WithCapacity] to size it for a known number of keys. It allocates only the
// Map itself: the shards are built on the first write.
func NewMap[K comparable, V any](opts ...Option) *Map[K, V] {
	m := new(Map[K, V])
	for _, o := range opts {
		o.apply(&m.cfg)
	}
	return m
}

// init builds the shards on the first write and returns the published
// table-pointer array (which another writer may have built first).
func (m *Map[K, V]) init() *tableRef {
	m.initMu.Lock()
	defer m.initMu.Unlock()
	if p := m.tables.Load(); p != nil {
		return p
	}
	n := m.cfg.shards
	if n == 0 {
		n = min(ceilPow2(defaultShardsPerP*runtime.GOMAXPROCS(0)), maxShards)
	}
	m.seed = maphash.MakeSeed()
	// memhash returns a uintptr: on 32-bit platforms it would leave the
	// top half of the hash, which picks the shard and h2, empty.
	if memhashLinked && unsafe.Sizeof(uintptr(0)) == 8 && reflect.TypeFor[K]().Kind() == reflect.String {
		m.strSeed = uintptr(rand.Uint64()) | 1
	}
	m.shardMask = uint64(n - 1)
	m.words = wordKindOf[V]()
	m.valEq = reflect.TypeFor[V]().Comparable()
	m.buckets = bucketsFor(m.cfg.capacity, n)
	m.shards = make([]mapShard[K, V], n)
	tables := make([]tableRef, n)
	for i := range m.shards {
		m.shards[i].ref = &tables[i]
	}
	m.tables.Store(&tables[0])
	return &tables[0]
}

// bucketsFor returns a shard's first table size for a map sized for
// capacity keys over n shards: room, under the load limit, for the mean
// share plus five standard deviations (keys fall into shards like balls
// into bins), so that a map filled to its capacity hint does not grow.
func bucketsFor(capacity, n int) int {
	if capacity == 0 {
		return minBuckets
	}
	mean := float64(capacity) / float64(n)
	keys := mean + 5*math.Sqrt(mean) + 2
	return ceilPow2(max(minBuckets, int(keys*8/(bucketSlots*7))+1))
}

// shardOf returns the index of h's shard: the low log2(len(m.shards)) of
// the hash's top 16 bits (maxShards is 1<<16). The bucket takes the hash's
// low bits and h2 bits 32 to 38, so the three are independent in any table
// of fewer than 2^32 buckets. A mask costs a lookup less than a shift by
// 64 - log2(len(m.shards)), which Go must guard for a shift by 64.
func (m *Map[K, V]) shardOf(h uint64) uint64 { return h >> 48 & m.shardMask }

// tableAt returns shard i's table reference: p points at the first of
// len(m.shards) of them and i < len(m.shards), since i is the hash's top
// log2(len(m.shards)) bits. Indexing without a slice saves Load a bounds
// check and the load of a length.
func tableAt(p *tableRef, i uint64) *tableRef {
	return (*tableRef)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*unsafe.Sizeof(*p)))
}

// Load returns the value stored for k and whether there was one. It takes
// no lock and writes nothing: it follows the probe sequence with atomic
// loads.
func (m *Map[K, V]) Load(k K) (v V, ok bool) {
	// The hash and the first bucket, written out: most lookups end there,
	// and calls to hash and lookup would not be inlined. Anything else (a
	// second candidate, a second bucket) goes to lookup, which starts over.
	// m.seed is read only after a load of m.tables returned non-nil (see
	// Map.tables).
	p := m.tables.Load()
	if p == nil {
		return v, false
	}
	var h uint64 // m.hash(k), written out
	if m.strSeed != 0 {
		h = stringHash(*(*string)(unsafe.Pointer(&k)), m.strSeed)
	} else {
		h = maphash.Comparable(m.seed, k)
	}
	ptr, mask := tableAt(p, m.shardOf(h)).load()
	if ptr == nil {
		return v, false
	}
	base := (*bucket[K, V])(ptr)
	bk := bucketAt(base, h&mask)
	meta := bk.meta.Load()
	if mm := matches(meta, h2(h)); mm != 0 {
		// Nested ifs, not e != nil && e.key == k: the compiler then returns
		// straight from the hit instead of joining it with the miss (which
		// reloads every spilled register).
		if e := slotAt(bk, mm).Load(); e != nil {
			if e.key == k {
				return e.val.load(m.words), true
			}
		}
	} else if hasEmpty(meta) && ownMask(base) == mask {
		return v, false // a miss, with the table's own mask (see tableRef)
	}
	if e := m.lookup(p, h, k); e != nil {
		return e.val.load(m.words), true
	}
	return v, false
}

// bucketAt returns bucket i of the buckets that start at base, without a
// bounds check: the caller's mask keeps i inside the table.
func bucketAt[K comparable, V any](base *bucket[K, V], i uint64) *bucket[K, V] {
	return (*bucket[K, V])(unsafe.Add(unsafe.Pointer(base), uintptr(i)*unsafe.Sizeof(*base)))
}

// slotAt returns the slot of bk whose byte is the lowest marked in mm (a
// mask from matches), without a bounds check: matches marks bytes 0 to 6
// only, since msb has no bit in byte 7.
func slotAt[K comparable, V any](bk *bucket[K, V], mm uint64) *atomic.Pointer[entry[K, V]] {
	return (*atomic.Pointer[entry[K, V]])(unsafe.Add(unsafe.Pointer(&bk.slots), uintptr(bits.TrailingZeros64(mm)>>3)*unsafe.Sizeof(bk.slots[0])))
}

// lookup returns k's entry, or nil, without a lock; p is m.tables, loaded.
func (m *Map[K, V]) lookup(p *tableRef, h uint64, k K) *entry[K, V] {
	ptr, mask := tableAt(p, m.shardOf(h)).load()
	if ptr == nil {
		return nil
	}
	base := (*bucket[K, V])(ptr)
	e := probe(base, mask, h, k)
	if own := ownMask(base); e == nil && own != mask {
		e = probe(base, own, h, k) // mask was the previous table's: see tableRef
	}
	return e
}

// probe looks k up in the buckets at base with mask, a power of two minus
// one no larger than the table's (see tableRef). It visits each bucket at
// most once: with a mask smaller than the table's, the buckets it reaches
// may all be full.
func probe[K comparable, V any](base *bucket[K, V], mask, h uint64, k K) *entry[K, V] {
	b := h2(h)
	for i, n := h&mask, mask; ; i, n = (i+1)&mask, n-1 {
		bk := bucketAt(base, i)
		meta := bk.meta.Load()
		for mm := matches(meta, b); mm != 0; mm &= mm - 1 {
			// A slot whose byte matched may have been emptied since the
			// meta load: nil is a miss on that slot, not the end.
			if e := slotAt(bk, mm).Load(); e != nil && e.key == k {
				return e
			}
		}
		if hasEmpty(meta) || n == 0 {
			return nil
		}
	}
}

// slot names one slot of a table.
type slot struct{ bucket, i uint64 }

// find returns k's slot in t and whether k is there; if not, the slot where
// it would be inserted (the first deleted one on its path, else the first
// empty one). The caller holds the shard lock, so meta and slots agree.
func (m *Map[K, V]) find(t *table[K, V], h uint64, k K) (at slot, found bool) {
	b := h2(h)
	free := slot{bucket: ^uint64(0)}
	base := &t.buckets[0]
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		bk := bucketAt(base, i)
		meta := bk.meta.Load()
		for mm := matches(meta, b); mm != 0; mm &= mm - 1 {
			if e := slotAt(bk, mm).Load(); e != nil { // nested: see Load
				if e.key == k {
					return slot{i, uint64(bits.TrailingZeros64(mm) >> 3)}, true
				}
			}
		}
		// The first empty or deleted slot: its byte's high bit is clear.
		if fm := ^meta & msb; fm != 0 && free.bucket == ^uint64(0) {
			free = slot{i, uint64(bits.TrailingZeros64(fm) >> 3)}
		}
		if hasEmpty(meta) {
			return free, false
		}
	}
}

// at returns the entry in slot at of t (locked).
func (t *table[K, V]) at(at slot) *entry[K, V] { return t.buckets[at.bucket].slots[at.i].Load() }

// setMeta sets slot's byte in its bucket's meta word to v (locked).
func setMeta[K comparable, V any](t *table[K, V], at slot, v uint64) {
	bk := &t.buckets[at.bucket]
	shift := 8 * at.i
	bk.meta.Store(bk.meta.Load()&^(0xff<<shift) | v<<shift)
}

// writeHash is hash for the write methods: it builds the shards first if
// this is the map's first write.
func (m *Map[K, V]) writeHash(k K) uint64 {
	if m.tables.Load() == nil {
		m.init()
	}
	if m.strSeed != 0 { // m.hash(k), written out
		return stringHash(*(*string)(unsafe.Pointer(&k)), m.strSeed)
	}
	return maphash.Comparable(m.seed, k)
}

// hashAndLookup is the lock-free first step of the load-or-store methods:
// k's hash (building the shards on the map's first write) and its entry, if
// any.
func (m *Map[K, V]) hashAndLookup(k K) (uint64, *entry[K, V]) {
	p := m.tables.Load()
	if p == nil {
		p = m.init()
	}
	h := m.hash(k)
	return h, m.lookup(p, h, k)
}

// lock locks h's shard and returns it with its table, built if the shard
// has none yet. The map is initialized (writeHash ran).
func (m *Map[K, V]) lock(h uint64) (*mapShard[K, V], *table[K, V]) {
	s := &m.shards[m.shardOf(h)]
	s.mu.Lock()
	return s, m.tableOf(s)
}

// tableOf returns s's table, building it if s has none (locked).
func (m *Map[K, V]) tableOf(s *mapShard[K, V]) *table[K, V] {
	if t := s.table.Load(); t != nil {
		return t // small enough to inline into every write
	}
	return m.firstTable(s)
}

// firstTable builds and publishes s's table (locked): not smaller than a
// table published before Clear (see tableRef).
func (m *Map[K, V]) firstTable(s *mapShard[K, V]) *table[K, V] {
	t := newTable[K, V](max(m.buckets, int(s.ref.mask.Load())+1))
	publish(s, t)
	return t
}

// bump counts one write on s (locked: a plain read and an atomic store,
// no read-modify-write instruction).
func bump(c *atomic.Uint64) { c.Store(c.Load() + 1) }

// setAt stores v for k at slot at of t (locked), where at and found are
// what find returned: an overwrite in place for word-sized values, else a
// new entry.
func (m *Map[K, V]) setAt(s *mapShard[K, V], t *table[K, V], at slot, found bool, h uint64, k K, v V) {
	bump(&s.writes)
	if found {
		if m.words != wordNone {
			t.at(at).val.store(m.words, v)
		} else {
			t.buckets[at.bucket].slots[at.i].Store(&entry[K, V]{key: k, val: valueCell[V]{v: v}})
		}
		return
	}
	if t.buckets[at.bucket].meta.Load()>>(8*at.i)&0xff == metaDeleted {
		s.tombs--
	} else if (int(s.used.Load())+s.tombs+1)*8 > len(t.buckets)*bucketSlots*7 {
		// Over 7/8 of the slots in use (or deleted): rebuild, which also
		// drops the deleted ones.
		t = m.grow(s, t)
		at, _ = m.find(t, h, k)
	}
	// The entry first, then the meta byte that lets readers see it.
	t.buckets[at.bucket].slots[at.i].Store(&entry[K, V]{key: k, val: valueCell[V]{v: v}})
	setMeta(t, at, h2(h))
	s.used.Store(s.used.Load() + 1)
}

// grow rehashes s's live entries into a table twice the size (or the same
// size if mostly deleted slots) and publishes it; readers on the old table
// finish there undisturbed: entries move, they are not copied, so an
// in-place overwrite made after the move is seen through either table.
func (m *Map[K, V]) grow(s *mapShard[K, V], old *table[K, V]) *table[K, V] {
	size := len(old.buckets)
	if (int(s.used.Load())+1)*2 > size*bucketSlots {
		size *= 2
		bump(&s.growths)
	}
	t := newTable[K, V](size)
	for i := range old.buckets {
		bk := &old.buckets[i]
		meta := bk.meta.Load()
		for j := range bucketSlots {
			if meta>>(8*j)&0x80 == 0 {
				continue
			}
			e := bk.slots[j].Load()
			h := m.hash(e.key)
			at, _ := m.find(t, h, e.key)
			t.buckets[at.bucket].slots[at.i].Store(e)
			setMeta(t, at, h2(h))
		}
	}
	s.tombs = 0
	publish(s, t)
	return t
}

// remove deletes at from s's table (locked): the meta byte first, so no new
// reader follows the slot, then the slot, so the entry can be collected.
func (m *Map[K, V]) remove(s *mapShard[K, V], t *table[K, V], at slot) {
	setMeta(t, at, metaDeleted)
	t.buckets[at.bucket].slots[at.i].Store(nil)
	s.used.Store(s.used.Load() - 1)
	s.tombs++
	bump(&s.writes)
}

// Store sets the value for k. Storing a new key allocates its entry, as does
// overwriting a value larger than a word; overwriting a word-sized value
// allocates nothing.
func (m *Map[K, V]) Store(k K, v V) {
	h := m.writeHash(k)
	s, t := m.lock(h)
	at, found := m.find(t, h, k)
	m.setAt(s, t, at, found, h, k, v)
	s.mu.Unlock()
}

// Swap stores v for k and returns the previous value, if any (loaded
// reports whether there was one).
func (m *Map[K, V]) Swap(k K, v V) (previous V, loaded bool) {
	h := m.writeHash(k)
	s, t := m.lock(h)
	defer s.mu.Unlock()
	at, found := m.find(t, h, k)
	if found {
		previous = t.at(at).val.v
	}
	m.setAt(s, t, at, found, h, k, v)
	return previous, found
}

// LoadOrStore returns the existing value for k if there is one (loaded is
// true); otherwise it stores v and returns it (loaded is false). Callers
// racing on one absent key all get the value of the one that stored.
func (m *Map[K, V]) LoadOrStore(k K, v V) (actual V, loaded bool) {
	h, e := m.hashAndLookup(k)
	if e != nil {
		return e.val.load(m.words), true
	}
	s, t := m.lock(h)
	defer s.mu.Unlock()
	// Again under the lock: another caller may have stored k since.
	at, found := m.find(t, h, k)
	if found {
		return t.at(at).val.v, true
	}
	m.setAt(s, t, at, false, h, k, v)
	return v, false
}

// LoadOrCompute returns the existing value for k if there is one (loaded is
// true); otherwise it calls fn, stores what it returns and returns that
// (loaded is false). fn runs at most once per absent key: however many
// goroutines ask for k at once, one of them runs fn and the others wait for
// its value and return it with loaded true. This is what a cache needs so
// that a missing or expired key is computed once, not once per waiting
// request (a cache stampede).
//
// fn runs with no lock held, so it may take as long as it needs and call
// any method of the Map, except LoadOrCompute on the same key (which would
// wait for itself). If fn panics (or calls runtime.Goexit), nothing is
// stored, the panic propagates to this caller, and the goroutines that were
// waiting try again (one of them runs its own fn). If another goroutine
// stores k (with Store, say) while fn runs, that value is kept and returned
// with loaded true, and fn's result is dropped.
func (m *Map[K, V]) LoadOrCompute(k K, fn func() V) (actual V, loaded bool) {
	// A hit is a cache's common case: Load's first-bucket hit, written out
	// again here (a call to Load costs every hit measurably), then the
	// lock-free lookup; only a miss goes on to loadOrCompute.
	if p := m.tables.Load(); p != nil {
		var h uint64 // m.hash(k), written out
		if m.strSeed != 0 {
			h = stringHash(*(*string)(unsafe.Pointer(&k)), m.strSeed)
		} else {
			h = maphash.Comparable(m.seed, k)
		}
		if ptr, mask := tableAt(p, m.shardOf(h)).load(); ptr != nil {
			bk := bucketAt((*bucket[K, V])(ptr), h&mask)
			if mm := matches(bk.meta.Load(), h2(h)); mm != 0 {
				if e := slotAt(bk, mm).Load(); e != nil { // nested: see Load
					if e.key == k {
						return e.val.load(m.words), true
					}
				}
			}
		}
		if e := m.lookup(p, h, k); e != nil {
			return e.val.load(m.words), true
		}
		return m.loadOrCompute(h, k, fn)
	}
	return m.loadOrCompute(m.writeHash(k), k, fn) // the map's first write
}

// loadOrCompute is LoadOrCompute after a miss; h is k's hash.
func (m *Map[K, V]) loadOrCompute(h uint64, k K, fn func() V) (actual V, loaded bool) {
	for {
		s, t := m.lock(h)
		if at, found := m.find(t, h, k); found {
			v := t.at(at).val.v
			s.mu.Unlock()
			return v, true
		}
		if c := s.computing(h, k); c != nil {
			c.waiters++ // compute sees it under mu and keeps c for us
			s.mu.Unlock()
			// Waiting is the point: Lock returns once fn has returned (see
			// computation), and c.val is then safe to read.
			c.running.Lock()
			//lint:ignore SA2001 the empty critical section is the wait
			c.running.Unlock()
			if c.ok {
				return c.val, true
			}
			continue // fn panicked: start over
		}
		c := s.spare
		if c == nil {
			c = new(computation[K, V])
		}
		s.spare = nil
		c.next, c.h, c.k = s.pending, h, k
		c.running.Lock() // before it is listed: no waiter gets ahead of fn
		s.pending = c
		s.mu.Unlock()
		return m.compute(s, h, k, fn, c)
	}
}

// computing returns the computation running for k, or nil (locked).
func (s *mapShard[K, V]) computing(h uint64, k K) *computation[K, V] {
	for c := s.pending; c != nil; c = c.next {
		if c.h == h && c.k == k {
			return c
		}
	}
	return nil
}

// done takes c off s's list of computations (locked).
func (s *mapShard[K, V]) done(c *computation[K, V]) {
	for p := &s.pending; *p != nil; p = &(*p).next {
		if *p == c {
			*p = c.next
			return
		}
	}
}

// compute runs fn for LoadOrCompute with no lock held, then stores its
// result (unless another write stored k meanwhile) and releases the
// waiters; by defer, so that a panic or Goexit in fn stores nothing and
// still releases them.
func (m *Map[K, V]) compute(s *mapShard[K, V], h uint64, k K, fn func() V, c *computation[K, V]) (actual V, loaded bool) {
	defer func() {
		s.mu.Lock()
		s.done(c)
		if c.ok {
			t := m.tableOf(s)
			at, found := m.find(t, h, k)
			if found {
				c.val, loaded = t.at(at).val.v, true
			} else {
				m.setAt(s, t, at, false, h, k, c.val)
			}
			actual = c.val
		}
		if c.waiters == 0 {
			// Off the list and nobody holds it: the next computation in
			// this shard reuses it rather than allocating.
			c.running.Unlock()
			c.next, c.k, c.val, c.ok = nil, *new(K), *new(V), false
			s.spare = c
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		c.running.Unlock() // the waiters go on; c is theirs now, never reused
	}()
	c.val = fn()
	c.ok = true
	return
}

// CompareAndSwap stores new for k if k's value is equal to old, and reports
// whether it did. As with sync.Map, the value type must be comparable: on a
// Map whose V is not (a slice, a map, a func, or a struct holding one),
// CompareAndSwap panics; with an interface V holding an uncomparable dynamic
// type, the comparison panics as == does.
func (m *Map[K, V]) CompareAndSwap(k K, old, new V) bool {
	h := m.writeHash(k)
	m.mustCompare("CompareAndSwap")
	if e := m.lookup(m.tables.Load(), h, k); e == nil || any(e.val.load(m.words)) != any(old) {
		return false // as sync.Map: no lock when it cannot swap
	}
	s, t := m.lock(h)
	defer s.mu.Unlock()
	at, found := m.find(t, h, k)
	if !found || any(t.at(at).val.v) != any(old) {
		return false
	}
	m.setAt(s, t, at, true, h, k, new)
	return true
}

// CompareAndDelete deletes k if its value is equal to old, and reports
// whether it did. It panics as CompareAndSwap does when V is not
// comparable.
func (m *Map[K, V]) CompareAndDelete(k K, old V) (deleted bool) {
	h := m.writeHash(k)
	m.mustCompare("CompareAndDelete")
	if e := m.lookup(m.tables.Load(), h, k); e == nil || any(e.val.load(m.words)) != any(old) {
		return false
	}
	s, t := m.lock(h)
	defer s.mu.Unlock()
	at, found := m.find(t, h, k)
	if !found || any(t.at(at).val.v) != any(old) {
		return false
	}
	m.remove(s, t, at)
	return true
}

func (m *Map[K, V]) mustCompare(method string) {
	if !m.valEq {
		panic("shard: Map." + method + ": value type " + reflect.TypeFor[V]().String() + " is not comparable")
	}
}

// LoadAndDelete deletes k and returns the value it had, if any.
func (m *Map[K, V]) LoadAndDelete(k K) (v V, loaded bool) {
	return m.loadAndDelete(m.writeHash(k), k)
}

func (m *Map[K, V]) loadAndDelete(h uint64, k K) (v V, loaded bool) {
	s, t := m.lock(h)
	defer s.mu.Unlock()
	at, found := m.find(t, h, k)
	if !found {
		return v, false
	}
	v = t.at(at).val.v
	m.remove(s, t, at)
	return v, true
}

// Delete deletes k; deleting a missing key does nothing (and takes no lock).
func (m *Map[K, V]) Delete(k K) {
	p := m.tables.Load()
	if p == nil {
		return
	}
	h := m.hash(k)
	if m.lookup(p, h, k) != nil {
		m.loadAndDelete(h, k)
	}
}

// Compute reads, changes and writes k's value in one step, holding k's shard
// lock: fn receives the current value (and whether k is present) and returns
// the new value and whether k should be present afterwards (false deletes
// it, or leaves it absent). Compute returns what fn returned.
//
// Use it for read-modify-write updates that must not lose a concurrent
// update (counters per key, appends). fn runs under the shard's lock: keep
// it short. Inside fn, Load, Len and Stats are safe (they take no lock);
// every other method (Store, Swap, LoadOrStore, LoadOrCompute, the Compare
// methods, Delete, LoadAndDelete, Compute, Clear, and a range over All) may
// need the same lock and deadlocks. To compute a missing value without
// holding a lock, use LoadOrCompute.
func (m *Map[K, V]) Compute(k K, fn func(old V, loaded bool) (v V, keep bool)) (V, bool) {
	h := m.writeHash(k)
	s, t := m.lock(h)
	defer s.mu.Unlock()
	at, loaded := m.find(t, h, k)
	var old V
	if loaded {
		old = t.at(at).val.v
	}
	v, keep := fn(old, loaded)
	switch {
	case keep:
		m.setAt(s, t, at, loaded, h, k, v)
	case loaded:
		m.remove(s, t, at)
	}
	return v, keep
}

// Len returns the number of keys, summed shard by shard (O(shards)) without
// locking; under concurrent writes it is not a snapshot of one instant.
func (m *Map[K, V]) Len() int {
	if m.tables.Load() == nil {
		return 0
	}
	n := int64(0)
	for i := range m.shards {
		n += m.shards[i].used.Load()
	}
	return int(n)
}

// Clear deletes every key, one shard at a time. Each shard drops its table;
// its next one is as large as the one dropped (as clear on a Go map keeps
// its room), since lock-free readers rely on a shard's table never
// shrinking.
func (m *Map[K, V]) Clear() {
	if m.tables.Load() == nil {
		return
	}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		if s.table.Load() != nil {
			publish(s, nil)
			s.used.Store(0)
			s.tombs = 0
			bump(&s.writes)
		}
		s.mu.Unlock()
	}
}

// All returns an iterator over the map's keys and values, one shard at a
// time. Each shard's keys and values are copied under its lock and then
// yielded with no lock held, so the loop body may call any method of the
// Map, and stopping the loop early leaves nothing locked. Each key present
// throughout the loop is yielded exactly once, with the value it had when
// its shard was visited; a key stored or deleted during the loop may or may
// not be yielded. The copy costs one allocation per range loop, sized to the
// largest shard.
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		if m.tables.Load() == nil {
			return
		}
		type kv struct {
			k K
			v V
		}
		var buf []kv
		for i := range m.shards {
			s := &m.shards[i]
			s.mu.Lock()
			buf = buf[:0]
			if t := s.table.Load(); t != nil {
				for b := range t.buckets {
					bk := &t.buckets[b]
					for j := range bucketSlots {
						if e := bk.slots[j].Load(); e != nil {
							buf = append(buf, kv{e.key, e.val.v})
						}
					}
				}
			}
			s.mu.Unlock()
			for _, e := range buf {
				if !yield(e.k, e.v) {
					return
				}
			}
		}
	}
}

// MapStats is a snapshot of a Map's shards, to spot a hot shard under skew.
type MapStats struct {
	Len    int          // keys in all shards
	Writes uint64       // write operations on all shards since NewMap
	Shards []ShardStats // per shard, in shard order; empty until the first write
}

// ShardStats describes one shard.
type ShardStats struct {
	Entries int    // keys in the shard
	Writes  uint64 // Store, Swap, LoadOrStore or LoadOrCompute that stored, Delete that deleted, Compute, Clear
	Slots   int    // table size (0 until the shard's first write); Entries/Slots is the load factor
	Growths uint64 // times the table was rebuilt larger ([WithCapacity] avoids them)
}

// Stats returns per-shard entry and write counts. Writes are counted under
// the shard lock they take anyway; reads are not counted, since a shared
// counter would undo what lock-free reads are for. Stats takes no lock
// (each shard's figures are read one after another, not at one instant) and
// allocates the Shards slice.
func (m *Map[K, V]) Stats() MapStats {
	var st MapStats
	if m.tables.Load() == nil {
		return st
	}
	st.Shards = make([]ShardStats, len(m.shards))
	for i := range m.shards {
		s := &m.shards[i]
		sh := ShardStats{Entries: int(s.used.Load()), Writes: s.writes.Load(), Growths: s.growths.Load()}
		if t := s.table.Load(); t != nil {
			sh.Slots = len(t.buckets) * bucketSlots
		}
		st.Shards[i] = sh
		st.Len += sh.Entries
		st.Writes += sh.Writes
	}
	return st
}
