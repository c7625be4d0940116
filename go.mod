module github.com/breakeven-go/breakeven

go 1.26.0

require go.uber.org/goleak v1.3.0

require github.com/cespare/xxhash/v2 v2.3.0

require golang.org/x/sync v0.25.0

require golang.org/x/time v0.16.0
