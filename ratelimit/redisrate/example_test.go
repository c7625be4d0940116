package redisrate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/breakeven-go/breakeven/ratelimit/redisrate"
)

func ExampleNew() {
	// In production Addr is your Redis; here nothing listens on it, to
	// show what happens when Redis is down: with FallbackLocal each of the
	// 4 instances allows its share (4/s / 4 = 1/s, burst 8 / 4 = 2)
	// locally, and the error still reaches the caller for alerting.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	defer rdb.Close()
	l := redisrate.New(rdb, 4, 8,
		redisrate.Prefix("api:"),
		redisrate.OnFailure(redisrate.FallbackLocal),
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
