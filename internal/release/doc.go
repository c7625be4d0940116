// Package release holds the checks that a release of breakeven can be
// fetched by someone outside this repository: its test builds a module proxy
// on the local file system from the working tree and has a throwaway module
// `go get` the root module and ratelimit/redisrate from it, with nothing
// leaving the machine. See RELEASING.md at the repository root.
//
// It is a module of its own so that golang.org/x/mod, which makes the module
// zips, never becomes a dependency of the root module.
package release
