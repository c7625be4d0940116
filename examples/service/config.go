package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// Config is what an operator can change without a restart. The service
// holds it in a cow.Value: every request loads the current version with one
// atomic load, and a reload publishes a new one.
type Config struct {
	Fanout int  `json:"fanout"` // backend calls per request
	Shed   bool `json:"shed"`   // ingress load shedding on
	Hedge  bool `json:"hedge"`  // hedge backend calls
}

func defaultConfig() Config { return Config{Fanout: 4, Shed: true, Hedge: true} }

func (c Config) validate() error {
	if c.Fanout < 1 || c.Fanout > 64 {
		return fmt.Errorf("fanout %d: want 1 to 64", c.Fanout)
	}
	return nil
}

// readConfig reads a JSON config; fields it does not set keep their
// defaults.
func readConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("service: config: %w", err)
	}
	return parseConfig(data)
}

func parseConfig(data []byte) (Config, error) {
	cfg := defaultConfig()
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("service: config: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("service: config: %w", err)
	}
	return cfg, nil
}
