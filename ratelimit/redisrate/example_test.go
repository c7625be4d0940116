package redisrate_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/breakeven-go/breakeven/ratelimit"
	"github.com/breakeven-go/breakeven/ratelimit/redisrate"
)

func ExampleNew() {
	// In production Addr is your Redis; here nothing listens on it, to
	// show what happens when Redis is down: with FallbackLocal each of the
	// 4 instances allows its share (4/s / 4 = 1/s, burst 8 / 4 = 2)
	// locally, and the error still reaches the caller for alerting.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond, ContextTimeoutEnabled: true})
	defer rdb.Close()
	l := redisrate.New(rdb, 4, 8,
		redisrate.Prefix("api:"),
		redisrate.Failure(redisrate.FallbackLocal),
		redisrate.LocalShare(4),
		redisrate.Timeout(100*time.Millisecond))
	for range 3 {
		ok, err := l.Allow(context.Background(), "client-42")
		fmt.Println(ok, err != nil)
	}
	// Output:
	// true true
	// true true
	// false true
}

// Example_middleware puts the fleet-wide limiter in front of an API with
// ratelimit.Middleware. Here Redis is down (nothing listens on Addr), so
// the limiter's FallbackLocal policy decides, locally at 1 request/hour
// with bursts of 2: the middleware applies that decision, and the error
// reaches only the OnError hook, never the client.
func Example_middleware() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond, ContextTimeoutEnabled: true})
	defer rdb.Close()
	l := redisrate.New(rdb, rate.Every(time.Hour), 2, redisrate.Failure(redisrate.FallbackLocal))
	errorsSeen := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	h := ratelimit.Middleware(l, api, ratelimit.OnError(func(error) { errorsSeen++ }))
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		fmt.Printf("%d Retry-After: %q\n", rec.Code, rec.Header().Get("Retry-After"))
	}
	fmt.Println("errors seen by the hook:", errorsSeen)
	// Output:
	// 200 Retry-After: ""
	// 200 Retry-After: ""
	// 429 Retry-After: "3600"
	// errors seen by the hook: 3
}

func ExampleLimiter_NewQuota() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond, ContextTimeoutEnabled: true})
	defer rdb.Close()
	// One limiter, one quota per plan. (Redis is down here, so
	// FallbackLocal decides, at each quota's own rate and burst.)
	l := redisrate.New(rdb, rate.Every(time.Minute), 1, redisrate.Failure(redisrate.FallbackLocal)) // the free plan
	pro, err := l.NewQuota(rate.Every(time.Minute), 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, plan := range []struct {
		name string
		q    interface {
			AllowN(ctx context.Context, key string, n int) (ratelimit.Decision, error)
		}
	}{{"free", l}, {"pro", pro}} {
		admitted := 0
		for range 5 {
			if d, _ := plan.q.AllowN(ctx, plan.name+"-client", 1); d.Allowed {
				admitted++
			}
		}
		fmt.Println(plan.name, admitted)
	}
	// Output:
	// free 1
	// pro 3
}

func ExampleLimiter_Reset() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond, ContextTimeoutEnabled: true})
	defer rdb.Close()
	l := redisrate.New(rdb, 1, 1)
	// An operator lifts a client's block. Reset reports whether Redis
	// forgot the key (here it cannot: nothing listens on Addr).
	err := l.Reset(context.Background(), "client-42")
	fmt.Println(err != nil)
	// Output: true
}
