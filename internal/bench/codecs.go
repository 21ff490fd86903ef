package bench

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"os"
	"testing"

	"github.com/pecapiku/pecapiku/cache"
)

// A Codec is a codec of package cache with the standard library's decode
// and encode of the same format: its floor.
type Codec struct {
	Codec  cache.Codec
	Decode func(data []byte, v any) error
	Encode func(v any) ([]byte, error)
}

// Codecs are the codecs that the hit and write benchmarks measure.
var Codecs = []Codec{
	{cache.JSON, json.Unmarshal, func(v any) ([]byte, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err := enc.Encode(v)
		return buf.Bytes(), err
	}},
	{cache.Gob, func(data []byte, v any) error { return gob.NewDecoder(bytes.NewReader(data)).Decode(v) }, func(v any) ([]byte, error) {
		var buf bytes.Buffer
		err := gob.NewEncoder(&buf).Encode(v)
		return buf.Bytes(), err
	}},
}

// ReadRecords is the floor of a hit: os.ReadFile of path, and decode of its
// bytes into a []Record.
func ReadRecords(b *testing.B, path string, decode func(data []byte, v any) error) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var v []Record
	if err := decode(data, &v); err != nil {
		b.Fatal(err)
	}
}

// MustNot returns a function for a path that must hit: it fails b if it
// runs.
func MustNot[T any](b *testing.B) func() (T, error) {
	return func() (T, error) {
		var zero T
		b.Fatal("the function ran on a hit")
		return zero, nil
	}
}

// WriteSync is the floor of a write: data written to path, created or
// truncated, with os.WriteFile's open, write and close, plus a Sync. It fails
// b on an error.
func WriteSync(b *testing.B, path string, data []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		b.Fatal(err)
	}
}
