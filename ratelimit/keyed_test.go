package ratelimit_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

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

// TestKeyedDropsIdleKeys: keys whose bucket refilled are forgotten as new
// keys arrive, without a background goroutine and without EvictedActive.
func TestKeyedDropsIdleKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed[int](10, 1, ratelimit.MaxKeys(1000))
		for i := range 1000 {
			k.Allow(i)
		}
		time.Sleep(time.Second) // every bucket is full again
		for i := range 1000 {
			k.Allow(1000 + i)
		}
		s := k.Stats()
		if s.Keys > 1000 || s.EvictedActive != 0 || s.Evicted < 1000 {
			t.Fatalf("Stats = %+v, want idle keys dropped, none active", s)
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
