package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server started from PATH on a free loopback port,
// persistence off, as ratelimit/redisrate's tests start it.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
}

// errNoRedis says redis-server is not installed.
var errNoRedis = errors.New("csv-import: redis-server not on PATH (apt-get install redis-server), or pass -redis ADDR")

func startRedis() (*redisServer, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errNoRedis
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &redisServer{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	s.cmd = exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("csv-import: starting redis-server: %w", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, errors.New("csv-import: redis-server did not answer PING within 10s")
		}
	}
}

// stop kills the server and waits for it to exit.
func (s *redisServer) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}
