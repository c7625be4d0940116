package panics

import (
	"errors"
	"io"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMessageUnwrap(t *testing.T) {
	if m := Message("pkg", io.EOF, []byte("stack")); m != "pkg: fn panicked: EOF\n\nstack" {
		t.Fatalf("Message = %q", m)
	}
	if !errors.Is(Unwrap(io.EOF), io.EOF) || Unwrap("not an error") != nil {
		t.Fatal("Unwrap does not return exactly the error values")
	}
}
