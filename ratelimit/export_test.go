package ratelimit

// OneShard puts every key of a new, empty k on one shard, so tests can
// observe the LRU order.
func OneShard[K comparable](k *Keyed[K]) { k.shards = k.shards[:1] }
