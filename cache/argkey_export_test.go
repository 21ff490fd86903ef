package cache

import "reflect"

// Canonical exposes the canonical encoding of an argument's key, salt and
// format included, to the benchmarks of package cache_test: the bytes whose
// SHA-256 names an entry.
func Canonical[A any](arg A) ([]byte, error) {
	return canonical(reflect.ValueOf(&arg).Elem(), "")
}
