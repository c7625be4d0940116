package cow_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/breakeven-go/breakeven/cow"
)

func TestNewMapCopiesItsArgument(t *testing.T) {
	init := map[string]int{"a": 1}
	m := cow.NewMap(init)
	init["a"] = 2
	init["b"] = 3
	if v, _ := m.Load("a"); v != 1 || m.Len() != 1 {
		t.Fatalf("changing init showed through: a = %d, Len %d", v, m.Len())
	}
	if cow.NewMap[string, int](nil).Len() != 0 {
		t.Fatal("NewMap(nil) is not empty")
	}
}

// TestMapModel compares cow.Map with a plain map over random operations.
func TestMapModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := cow.NewMap[int, int](nil)
	model := map[int]int{}
	for step := range 20_000 {
		k, v := r.IntN(200), r.IntN(1000)
		switch r.IntN(4) {
		case 0:
			got, ok := m.Load(k)
			want, wok := model[k]
			if got != want || ok != wok {
				t.Fatalf("step %d: Load(%d) = %d, %v; want %d, %v", step, k, got, ok, want, wok)
			}
		case 1:
			m.Store(k, v)
			model[k] = v
		case 2:
			m.Delete(k)
			delete(model, k)
		case 3:
			m.Apply(func(c map[int]int) {
				c[k] = v
				delete(c, k+1)
			})
			model[k] = v
			delete(model, k+1)
		}
		if m.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", step, m.Len(), len(model))
		}
	}
	if got := maps.Collect(m.All()); !maps.Equal(got, model) {
		t.Fatal("All() differs from the model")
	}
}

// TestMapApplyPublishesOnce: one Apply of many edits is one copy, and a
// reader never sees some of its edits without the others.
func TestMapApplyPublishesOnce(t *testing.T) {
	m := cow.NewMap(map[string]int{"a": 0, "b": 0})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s := m.Snapshot()
			a, _ := s.Load("a")
			b, _ := s.Load("b")
			if a != b {
				t.Errorf("snapshot with a=%d, b=%d: a half-applied batch", a, b)
				return
			}
		}
	})
	before := m.Stats().Copies
	for i := 1; i <= 500; i++ {
		m.Apply(func(c map[string]int) {
			c["a"] = i
			for j := range 10 {
				c[fmt.Sprint("x", j)] = j
			}
			c["b"] = i
		})
	}
	close(stop)
	wg.Wait()
	if got := m.Stats().Copies - before; got != 500 {
		t.Fatalf("500 Applies made %d copies, want 500", got)
	}
	if m.Len() != 12 {
		t.Fatalf("Len = %d, want 12", m.Len())
	}
}

func TestMapSnapshotAndResetAreStable(t *testing.T) {
	m := cow.NewMap(map[string]int{"a": 1})
	snap := m.Snapshot()
	m.Store("b", 2)
	if snap.Len() != 1 {
		t.Fatalf("snapshot changed after Store: Len %d", snap.Len())
	}
	old := m.Reset(map[string]int{"c": 3})
	if old.Len() != 2 || m.Len() != 1 {
		t.Fatalf("Reset: old Len %d, new Len %d; want 2, 1", old.Len(), m.Len())
	}
	if _, ok := m.Load("a"); ok {
		t.Fatal("key from before Reset still present")
	}
	if v, ok := old.Load("b"); !ok || v != 2 {
		t.Fatalf("old snapshot Load(b) = %d, %v", v, ok)
	}
	var zero cow.Snapshot[string, int]
	if zero.Len() != 0 {
		t.Fatal("zero Snapshot is not empty")
	}
	for range zero.All() {
		t.Fatal("zero Snapshot yielded a key")
	}
}

func TestMapLoadDoesNotAllocate(t *testing.T) {
	m := cow.NewMap(map[string]int{"a": 1})
	if a := testing.AllocsPerRun(1000, func() { m.Load("a") }); a != 0 {
		t.Fatalf("Load allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(100, func() { m.Delete("missing") }); a != 0 {
		t.Fatalf("Delete of a missing key allocates %v times per call (copies the map?)", a)
	}
}
