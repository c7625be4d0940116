package fanout_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakeven-go/breakeven/fanout"
)

func TestGroupTypedResultsAndLimit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(2))
		var inFlight maxTracker
		user := fanout.Spawn(g, func(ctx context.Context) (string, error) {
			inFlight.enter()
			defer inFlight.exit()
			time.Sleep(time.Millisecond)
			return "ada", nil
		})
		orders := fanout.Spawn(g, func(ctx context.Context) (int, error) {
			inFlight.enter()
			defer inFlight.exit()
			time.Sleep(time.Millisecond)
			return 3, nil
		})
		g.Go(func(ctx context.Context) error {
			inFlight.enter()
			defer inFlight.exit()
			time.Sleep(time.Millisecond)
			return nil
		})
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		name, _ := user.Get()
		n, _ := orders.Get()
		if name != "ada" || n != 3 || inFlight.max.Load() > 2 {
			t.Fatalf("results %q, %d; max in flight %d with Limit(2)", name, n, inFlight.max.Load())
		}
	})
}

func TestGroupFirstErrorCancelsAndStopWaits(t *testing.T) {
	bubble(t, func(t *testing.T) {
		g, ctx := fanout.NewGroup(t.Context(), fanout.Limit(4))
		errBoom := errors.New("boom")
		var cancelled atomic.Bool
		running := make(chan struct{})
		g.Go(func(ctx context.Context) error {
			close(running)
			<-ctx.Done()
			cancelled.Store(true)
			return ctx.Err()
		})
		<-running
		g.Go(func(context.Context) error { return errBoom })
		<-ctx.Done() // the error cancelled the group
		g.Go(func(context.Context) error {
			t.Error("a task started after the group was cancelled")
			return nil
		})
		if err := g.Wait(); !errors.Is(err, errBoom) || !cancelled.Load() || ctx.Err() == nil {
			t.Fatalf("Wait = %v, cancelled %v: want the first error and the others cancelled", err, cancelled.Load())
		}

		g2, _ := fanout.NewGroup(t.Context())
		var ran atomic.Bool
		started := make(chan struct{})
		g2.Go(func(ctx context.Context) error { close(started); <-ctx.Done(); ran.Store(true); return nil })
		<-started
		if err := g2.Stop(); err != nil || !ran.Load() {
			t.Fatalf("Stop = %v, task finished %v", err, ran.Load())
		}
	})
}

func TestGroupPanicReachesWait(t *testing.T) {
	g, _ := fanout.NewGroup(context.Background())
	g.Go(func(context.Context) error { panic("task exploded") })
	defer func() {
		pe, ok := recover().(*fanout.PanicError)
		if !ok || pe.Value != "task exploded" {
			t.Fatalf("recovered %v, want *PanicError", pe)
		}
	}()
	g.Wait()
	t.Fatal("Wait returned after a panic")
}

func TestGroupBudgetAndChunk(t *testing.T) {
	bubble(t, func(t *testing.T) {
		b := fanout.NewBudget(1)
		g, _ := fanout.NewGroup(t.Context(), fanout.Limit(8), fanout.WithBudget(b))
		var inFlight maxTracker
		for range 5 {
			g.Go(func(context.Context) error {
				inFlight.enter()
				defer inFlight.exit()
				time.Sleep(time.Millisecond)
				return nil
			})
		}
		if err := g.Wait(); err != nil || inFlight.max.Load() != 1 || b.Stats().InUse != 0 {
			t.Fatalf("Wait = %v, max in flight %d with a budget of 1", err, inFlight.max.Load())
		}
	})
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "fanout: NewGroup(Chunk") {
			t.Fatalf("NewGroup with Chunk panicked with %q", msg)
		}
	}()
	fanout.NewGroup(context.Background(), fanout.Chunk(2))
}
