// Package baseline holds the plain implementations each primitive is
// measured against: a mutex, an atomic, a map under a lock. They are
// deliberately simple and pass the same behaviour tests as the primitives,
// so a benchmark never compares against a broken baseline.
package baseline
