package shard_test

import (
	"maps"
	"strconv"
	"testing"

	"github.com/breakeven-go/breakeven/shard"
)

// FuzzMap decodes the input into operations (three bytes each: operation,
// key, value) and runs them on a shard.Map and on a plain map, comparing
// every result and, at the end, the contents. Keys are few (16) so that
// stores, deletes and re-stores of one key meet in one bucket, and the map
// has one or two shards so that tables grow and fill with deleted slots. It
// runs twice: int values (overwritten in place) and string values (a new
// entry per overwrite).
func FuzzMap(f *testing.F) {
	f.Add([]byte{0, 1, 2, 1, 1, 0, 3, 1, 5, 2, 1, 0, 11, 0, 0})
	f.Add([]byte{1, 3, 4, 6, 3, 4, 7, 3, 4, 8, 3, 9, 9, 3, 9, 4, 3, 0, 10, 3, 2})
	seq := make([]byte, 0, 300)
	for i := range 100 {
		seq = append(seq, byte(i%3), byte(i), byte(i*7))
	}
	f.Add(seq)
	f.Fuzz(func(t *testing.T, ops []byte) {
		fuzzMap(t, ops, func(b byte) int { return int(b) })
		fuzzMap(t, ops, func(b byte) string { return strconv.Itoa(int(b)) })
	})
}

func fuzzMap[V comparable](t *testing.T, ops []byte, val func(byte) V) {
	shards := 1
	if len(ops)%2 == 1 {
		shards = 2
	}
	m := shard.NewMap[string, V](shard.WithShards(shards))
	model := map[string]V{}
	for i := 0; i+2 < len(ops); i += 3 {
		op, k, v := ops[i]%12, "k"+strconv.Itoa(int(ops[i+1]%16)), val(ops[i+2])
		want, wok := model[k]
		check := func(name string, got V, ok bool) {
			t.Helper()
			if got != want || ok != wok {
				t.Fatalf("op %d: %s(%q) = %v, %v; plain map has %v, %v", i/3, name, k, got, ok, want, wok)
			}
		}
		switch op {
		case 0:
			got, ok := m.Load(k)
			check("Load", got, ok)
		case 1:
			m.Store(k, v)
			model[k] = v
		case 2:
			got, loaded := m.LoadOrStore(k, v)
			if !wok {
				want = v
				model[k] = v
			}
			check("LoadOrStore", got, loaded)
		case 3:
			m.Delete(k)
			delete(model, k)
		case 4:
			got, ok := m.LoadAndDelete(k)
			check("LoadAndDelete", got, ok)
			delete(model, k)
		case 5:
			got, ok := m.Swap(k, v)
			check("Swap", got, ok)
			model[k] = v
		case 6:
			if swapped := m.CompareAndSwap(k, v, val(ops[i+2]+1)); swapped != (wok && want == v) {
				t.Fatalf("op %d: CompareAndSwap(%q, %v) = %v; plain map has %v, %v", i/3, k, v, swapped, want, wok)
			}
			if wok && want == v {
				model[k] = val(ops[i+2] + 1)
			}
		case 7:
			if deleted := m.CompareAndDelete(k, v); deleted != (wok && want == v) {
				t.Fatalf("op %d: CompareAndDelete(%q, %v) = %v; plain map has %v, %v", i/3, k, v, deleted, want, wok)
			}
			if wok && want == v {
				delete(model, k)
			}
		case 8:
			keep := ops[i+2]%2 == 0
			m.Compute(k, func(old V, loaded bool) (V, bool) {
				if old != want || loaded != wok {
					t.Fatalf("op %d: Compute(%q) saw %v, %v; plain map has %v, %v", i/3, k, old, loaded, want, wok)
				}
				return v, keep
			})
			if keep {
				model[k] = v
			} else {
				delete(model, k)
			}
		case 9:
			got, loaded := m.LoadOrCompute(k, func() V { return v })
			if !wok {
				want = v
				model[k] = v
			}
			check("LoadOrCompute", got, loaded)
		case 10:
			if m.Len() != len(model) {
				t.Fatalf("op %d: Len() = %d, plain map has %d", i/3, m.Len(), len(model))
			}
		case 11:
			m.Clear()
			clear(model)
		}
	}
	if got := maps.Collect(m.All()); !maps.Equal(got, model) || m.Len() != len(model) {
		t.Fatalf("All() = %v (Len %d), plain map has %v", got, m.Len(), model)
	}
}
