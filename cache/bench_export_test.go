package cache

import (
	"reflect"

	"github.com/go-json-experiment/json"
)

// UnmarshalJSONLibrary exposes to the benchmarks of package cache_test what
// the JSON codec's decoding costs in the library alone: the Unmarshal of
// github.com/go-json-experiment/json with the options the codec passes it
// for v, without the codec's own checks around it.
func UnmarshalJSONLibrary(data []byte, v any) error {
	return json.Unmarshal(data, v, jsonOptions(reflect.TypeOf(v), false))
}
