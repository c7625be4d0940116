package ratelimit_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/internal/lockstep"
	"github.com/breakeven-go/breakeven/ratelimit"
)

func TestKeyedIsolatesKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](1, 2)
		for i := range 2 {
			if !k.Allow("alice") {
				t.Fatalf("alice refused at event %d of her burst", i)
			}
		}
		if k.Allow("alice") {
			t.Fatal("alice admitted past her burst")
		}
		if !k.Allow("bob") {
			t.Fatal("bob refused because alice spent her quota")
		}
		d := k.Decide("alice")
		if d.Allowed || d.RetryAfter != time.Second || d.Limit != 2 || d.Remaining != 0 {
			t.Fatalf("Decide(alice) = %+v, want refused with RetryAfter 1s", d)
		}
		time.Sleep(time.Second)
		if !k.Allow("alice") {
			t.Fatal("alice still refused after 1s at 1/s")
		}
		if s := k.Stats(); s.Keys != 2 || s.Allowed != 4 || s.Denied != 2 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

func TestKeyedOverride(t *testing.T) {
	k := ratelimit.NewKeyed[string](1, 1, ratelimit.Override("partner", 1000, 100))
	n := 0
	for k.Allow("partner") {
		n++
	}
	if n < 100 || n > 101 {
		t.Fatalf("partner admitted %d at once, want its burst of 100", n)
	}
	if first, second := k.Allow("other"), k.Allow("other"); !first || second {
		t.Fatalf("a key at the default burst of 1: first Allow %v, second %v; want true, false", first, second)
	}
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "ratelimit: Override") {
			t.Fatalf("Override of the wrong key type panicked with %q", msg)
		}
	}()
	ratelimit.NewKeyed[int](1, 1, ratelimit.Override("not an int", 1, 1))
}

// TestKeyedDropsIdleKeys: keys whose bucket refilled a while ago are
// forgotten as new keys arrive, without a background goroutine and without
// EvictedActive.
func TestKeyedDropsIdleKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](10, 1, ratelimit.MaxKeys(1000))
		for i := range 1000 {
			k.Allow(i)
		}
		time.Sleep(2 * time.Second) // every bucket full again, for longer than the grace
		for i := range 1000 {
			k.Allow(1000 + i)
		}
		s := k.Stats()
		if s.Keys != 1000 || s.EvictedActive != 0 || s.Evicted != 1000 {
			t.Fatalf("Stats = %+v, want the 1000 idle keys dropped (Evicted 1000, none active) and the 1000 new ones tracked", s)
		}
	})
}

func TestKeyedHitDoesNotAllocate(t *testing.T) {
	k := ratelimit.NewKeyed[string](1e6, 1000)
	k.Allow("client-42")
	if a := testing.AllocsPerRun(1000, func() { k.Allow("client-42") }); a != 0 {
		t.Fatalf("Allow on a tracked key allocates %v times", a)
	}
}

// TestKeyedMemoryIsBounded: 2M distinct keys through a default NewKeyed
// grow the live heap by less than 256 MB (MaxKeys defaults to 1<<20).
func TestKeyedMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("2M keys")
	}
	before := heapInUse()
	k := ratelimit.NewKeyed[string](rate.Every(time.Hour), 5) // no bucket refills: every key stays active
	for i := range 2_000_000 {
		k.Allow("client-" + strconv.Itoa(i))
	}
	grew := int64(heapInUse()) - int64(before)
	s := k.Stats()
	runtime.KeepAlive(k)
	if grew > 256<<20 {
		t.Fatalf("live heap grew by %d MiB for 2M keys, want < 256 MiB", grew>>20)
	}
	if s.Keys > 1<<20 || s.EvictedActive == 0 {
		t.Fatalf("Stats = %+v, want at most 1Mi keys tracked and the rest evicted", s)
	}
	t.Logf("2M keys: %d tracked, live heap +%d MiB", s.Keys, grew>>20)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestMaxKeysRejectsBadValues(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "ratelimit: MaxKeys(0)") {
			t.Fatalf("MaxKeys(0) panicked with %q", msg)
		}
	}()
	ratelimit.MaxKeys(0)
}

// TestKeyedRateZeroLikeNew (issue 19, defect 8): NewKeyed(0, b) admits each
// key's first b events, then none, as New(0, b) does; its refusals say
// they are for good (RetryAfter rate.InfDuration), not "in a second".
func TestKeyedRateZeroLikeNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](0, 2)
		l := ratelimit.New(0, 2)
		for i := range 2 {
			if !k.Allow("a") || !l.Allow() {
				t.Fatalf("rate 0 burst 2 refused event %d of the burst", i)
			}
		}
		time.Sleep(24 * time.Hour)
		if k.Allow("a") || l.Allow() {
			t.Fatal("rate 0 admitted past its burst")
		}
		if d := k.Decide("a"); d.Allowed || d.RetryAfter != rate.InfDuration || d.ResetAfter != rate.InfDuration {
			t.Fatalf("Decide at rate 0 after the burst = %+v, want RetryAfter and ResetAfter rate.InfDuration", d)
		}
		// Many more keys do not make the spent one look idle.
		for i := range 1000 {
			k.Allow(strconv.Itoa(i))
		}
		if k.Allow("a") {
			t.Fatal("a spent rate-0 key was dropped as idle and admitted again")
		}
	})
}

// TestKeyedWait: Wait blocks until the key's event fits, gives it back when
// cancelled, and fails at once past the deadline.
func TestKeyedWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[string](10, 1)
		start := time.Now()
		for range 3 {
			if err := k.Wait(t.Context(), "a"); err != nil {
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took != 200*time.Millisecond {
			t.Fatalf("3 Waits at 10/s burst 1 took %v, want 200ms", took)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := k.Wait(ctx, "a"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait past the deadline: %v", err)
		}
		ctx2, cancel2 := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- k.Wait(ctx2, "a") }()
		synctest.Wait()
		cancel2()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Wait: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		if !k.Allow("a") {
			t.Fatal("the cancelled Wait kept its event")
		}
		if err := k.WaitN(t.Context(), "a", 2); err == nil {
			t.Fatal("WaitN above the burst succeeded")
		}
	})
}

// TestKeyedMaxKeysExact (issue 24): however the keys fall on shards, Keyed
// never tracks more than MaxKeys keys, even when every key is active.
func TestKeyedMaxKeysExact(t *testing.T) {
	for _, maxKeys := range []int{1, 2, 3, 7, 100, 1000} {
		k := ratelimit.NewKeyed[int](rate.Every(time.Hour), 1, ratelimit.MaxKeys(maxKeys))
		for i := range 20 * maxKeys {
			k.Allow(i)
			if n := k.Stats().Keys; n > maxKeys {
				t.Fatalf("MaxKeys(%d): %d keys tracked after %d distinct keys", maxKeys, n, i+1)
			}
		}
		if s := k.Stats(); s.Keys != maxKeys || s.EvictedActive != uint64(19*maxKeys) {
			t.Fatalf("MaxKeys(%d): Stats = %+v, want exactly %d keys and %d active evictions", maxKeys, s, maxKeys, 19*maxKeys)
		}
	}
}

// TestKeyedCountsOutsideOneToBurst: AllowN, Decide's path (WaitN) and
// their zero and negative counts. n above the burst never fits, 0 always
// does and a negative n never does, and none of them tracks the key: a
// request that counts nothing must not take a MaxKeys slot (and evict a
// live key for it).
func TestKeyedCountsOutsideOneToBurst(t *testing.T) {
	k := ratelimit.NewKeyed[string](rate.Every(time.Hour), 2, ratelimit.MaxKeys(1))
	if !k.Allow("live") {
		t.Fatal("first Allow refused")
	}
	if above, zero, negative := k.AllowN("a", 3), k.AllowN("b", 0), k.AllowN("c", -1); above || !zero || negative {
		t.Fatalf("AllowN with a burst of 2: 3 -> %v, 0 -> %v, -1 -> %v; want false, true, false", above, zero, negative)
	}
	if err := k.WaitN(t.Context(), "d", 0); err != nil {
		t.Fatalf("WaitN(0) = %v, want nil", err)
	}
	if k.WaitN(t.Context(), "e", -1) == nil {
		t.Fatal("WaitN(-1) = nil, want an error")
	}
	if s := k.Stats(); s.Keys != 1 || s.Evicted != 0 {
		t.Fatalf("after counts of 3, 0 and -1 on new keys: Stats = %+v, want only the live key tracked, none evicted", s)
	}
}

// TestKeyedSecondChance (issue 24): at MaxKeys, a key used since it was
// inserted survives the next eviction and an unused one goes first (on one
// shard, so that the order is the LRU order).
func TestKeyedSecondChance(t *testing.T) {
	one := ratelimit.NewKeyed[string](rate.Every(time.Hour), 5, ratelimit.MaxKeys(2))
	ratelimit.OneShard(one)
	one.Allow("old")   // cold end
	one.Allow("young") // front
	one.Allow("old")   // used again: second chance
	one.Allow("new")   // evicts "young", not "old"
	if !stillTracked(one, "old") {
		t.Fatal("the key used since insertion was evicted: no second chance")
	}
	if stillTracked(one, "young") {
		t.Fatal("the unused key survived and the used one did not")
	}
}

// stillTracked reports whether k remembers key's spent token (a forgotten
// key would be full again at 1/hour).
func stillTracked(k *ratelimit.Keyed[string], key string) bool {
	return k.Decide(key).Remaining < 4 // Decide itself spends one
}

// TestKeyedKeepsRecentlyFullKeys: a client under its limit, whose bucket is
// full again at each request, stays tracked for the idle grace instead of
// being dropped and inserted anew on every request.
func TestKeyedKeepsRecentlyFullKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](1000, 1000)
		for i := range 100 {
			k.Allow(i)
		}
		time.Sleep(100 * time.Millisecond) // every bucket full again
		for i := range 100 {
			k.Allow(100 + i) // new keys: a chance to drop idle ones
			k.Allow(i)
		}
		if s := k.Stats(); s.Keys != 200 || s.Evicted != 0 {
			t.Fatalf("Stats = %+v, want the 100 recently full keys still tracked", s)
		}
		time.Sleep(2 * time.Second)
		// An insert drops the idle keys of its own shard only, and one
		// shard in 64 holds none of the 200 keys in some runs: new keys
		// in many shards make the drop certain.
		for i := range 100 {
			k.Allow(-1 - i)
		}
		if s := k.Stats(); s.Evicted == 0 {
			t.Fatalf("Stats = %+v, want keys idle past the grace dropped", s)
		}
	})
}

// TestKeyedMaxKeysExactUnderContention: goroutines racing new keys into
// every shard at once end with exactly MaxKeys keys tracked, every other
// key evicted (all active), none lost from the counts.
func TestKeyedMaxKeysExactUnderContention(t *testing.T) {
	const maxKeys, workers, perWorker = 64, 8, 1000
	k := ratelimit.NewKeyed[int](rate.Every(time.Hour), 1, ratelimit.MaxKeys(maxKeys))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				k.Allow(w*perWorker + i)
				if i%16 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	s := k.Stats()
	if s.Keys != maxKeys || s.Allowed != workers*perWorker || s.EvictedActive != workers*perWorker-maxKeys {
		t.Fatalf("Stats = %+v, want exactly %d keys, %d allowed, %d active evictions", s, maxKeys, workers*perWorker, workers*perWorker-maxKeys)
	}
}

// TestKeyedLastSlotGoesToOneOfTwo (issue 24): round after round, a Keyed
// one key below MaxKeys gets two new keys at the same instant (from this
// goroutine and a helper spinning on the round number, so no wake-up
// staggers them) and ends with exactly MaxKeys keys. A check-then-add
// reserving the slot (load, compare, then add, instead of the CAS) lets
// both new keys in when they fall on different shards, which is most
// rounds. Bounded rounds; nothing depends on the machine's speed.
func TestKeyedLastSlotGoesToOneOfTwo(t *testing.T) {
	const maxKeys, rounds = 4, 4000
	var k *ratelimit.Keyed[int]
	lockstep.Rounds(t, rounds,
		func(int) {
			k = ratelimit.NewKeyed[int](rate.Every(time.Hour), 1, ratelimit.MaxKeys(maxKeys)) // every key stays active
			for i := range maxKeys - 1 {
				k.Allow(i)
			}
		},
		func(int) { k.Allow(-1) },
		func(r int) { lockstep.Sweep(r, 16); k.Allow(-2) }, // sweeps across the helper's lag in seeing the round
		func(r int) {
			if s := k.Stats(); s.Keys != maxKeys {
				t.Fatalf("round %d: %d keys tracked after two new keys at once, MaxKeys %d", r, s.Keys, maxKeys)
			}
		})
}
