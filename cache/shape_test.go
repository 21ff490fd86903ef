package cache_test

import (
	"errors"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// The types of a fixture before and after a change: a field added, one
// added with omitempty, one removed, one renamed.
type (
	userV1 struct {
		Name string
		Age  int
	}
	userV2 struct {
		Name  string
		Age   int
		Email string
	}
	userOptional struct {
		Name  string
		Age   int
		Email string `json:",omitempty"`
	}
	order struct {
		Name  string
		Total float64
		Paid  bool
	}
	team struct {
		Lead    userV1
		Members []userV1
		ByName  map[string]*userV1
		When    time.Time
	}
	teamV2 struct {
		Lead    userV2
		Members []userV1
		ByName  map[string]*userV1
		When    time.Time
	}
	teamMembersV2 struct {
		Lead    userV1
		Members []userV2
		ByName  map[string]*userV1
		When    time.Time
	}
	embedsV1 struct {
		userV1
		Note string
	}
	embedsV2 struct {
		userV2
		Note string
	}
	wrapper struct{ Inner userV1 }
)

// recordAs encodes v with c and decodes the bytes into a new value of the
// type of into, returning the decoding error.
func recordAs(t *testing.T, c cache.Codec, v, into any) error {
	t.Helper()
	data, err := c.Marshal(v)
	assert.NilError(t, err)
	return c.Unmarshal(data, into)
}

// TestShapeChanged: a recording made from another version of its type (a
// field added since) is refused by both codecs, naming the fields; one the
// type can read as it is (an omitempty field added, the same type) is not.
func TestShapeChanged(t *testing.T) {
	users := []userV1{{"a", 1}, {"b", 2}}
	for _, tc := range []struct {
		name  string
		c     cache.Codec
		v     any
		into  any
		error string // "" when the recording fits
	}{
		{"json same type", cache.JSON, userV1{"a", 1}, new(userV1), ""},
		{"json field added", cache.JSON, userV1{"a", 1}, new(userV2), `the recording does not have the fields of its type: at the top level: the recording has no member "Email", which cache_test.userV2 always writes: it was recorded from another version of the type`},
		{"json omitempty field added", cache.JSON, userV1{"a", 1}, new(userOptional), ""},
		{"json in a list", cache.JSON, users, new([]userV2), `at /0: the recording has no member "Email", which cache_test.userV2 always writes`},
		{"json in a map", cache.JSON, map[string]userV1{"k": {"a", 1}}, new(map[string]*userV2), `at /k: the recording has no member "Email"`},
		{"json nested", cache.JSON, team{Lead: userV1{"a", 1}}, new(teamV2), `at /Lead: the recording has no member "Email"`},
		{"json nested in a list", cache.JSON, team{Members: users}, new(teamMembersV2), `at /Members/0: the recording has no member "Email"`},
		{"json embedded", cache.JSON, embedsV1{userV1{"a", 1}, "n"}, new(embedsV2), `at the top level: the recording has no member "Email"`},
		{"json same nested type", cache.JSON, team{Lead: userV1{"a", 1}, Members: users, ByName: map[string]*userV1{"a": {"a", 1}, "nil": nil}}, new(team), ""},
		{"json field removed", cache.JSON, userV2{"a", 1, "e"}, new(userV1), `at /Email: cache_test.userV1 has no field of that name`},
		{"gob same type", cache.Gob, userV1{"a", 1}, new(userV1), ""},
		{"gob another type", cache.Gob, userV1{"a", 1}, new(order), `the recording does not have the fields of its type: at the top level: the recording's userV1 has fields that cache_test.order does not have: Age, and lacks fields of cache_test.order: Paid, Total; it was recorded from another type, or another version of it`},
		{"gob field added", cache.Gob, userV1{"a", 1}, new(userV2), `at the top level: the recording's userV1 lacks fields of cache_test.userV2: Email`},
		{"gob zero-valued fields are still known", cache.Gob, userV1{}, new(userV1), ""},
		{"gob nested in a list", cache.Gob, team{Lead: userV1{"a", 1}, Members: users}, new(teamMembersV2), `at Members[]: the recording's userV1 lacks fields of cache_test.userV2: Email`},
		{"gob pointer and map", cache.Gob, map[string]userV1{"k": {"a", 1}}, new(map[string]*userV2), `at []: the recording's userV1 lacks fields of cache_test.userV2: Email`},
		{"gob time and same types", cache.Gob, team{Lead: userV1{"a", 1}, When: time.Unix(5, 0).UTC()}, new(team), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := recordAs(t, tc.c, tc.v, tc.into)
			if tc.error == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.error)
		})
	}
}

// TestShapeNull: a JSON null where the type cannot be null (a struct, a
// number) is refused, at the top level and below; where it can (a pointer,
// a slice, a map, an interface) it is nil.
func TestShapeNull(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		into       any
		error      string
	}{
		{"struct", `null`, new(userV1), "at the top level: the recording holds null, where cache_test.userV1 is expected, which is a struct"},
		{"struct field", `{"Inner": null}`, new(wrapper), "at /Inner: the recording holds null, where cache_test.userV1 is expected, which is a struct"},
		{"number in a list", `{"Lead": {"Name": "a", "Age": 1}, "Members": [{"Name": "b", "Age": null}], "ByName": null, "When": "2026-01-01T00:00:00Z"}`, new(team), "at /Members/0/Age: the recording holds null, where int is expected, which cannot be null"},
		{"pointer", `null`, new(*userV1), ""},
		{"slice", `null`, new([]userV1), ""},
		{"map value", `{"k": null}`, new(map[string]*userV1), ""},
		{"interface", `null`, new(any), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cache.JSON.Unmarshal([]byte(tc.data), tc.into)
			if tc.error == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.error)
		})
	}
}

// TestShapeThroughDo: a recording of another version of the type is a
// miss that is computed again with e (and rewritten with w), and an error
// naming the fields without it, as any corrupt entry.
func TestShapeThroughDo(t *testing.T) {
	for _, c := range []cache.Codec{cache.JSON, cache.Gob} {
		t.Run(c.Name(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			old, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(c), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			_, err = cache.Do(old, "user", func() (userV1, error) { return userV1{"a", 1}, nil })
			assert.NilError(t, err)

			readOnly, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(c), cache.WithAccess(cache.ReadOnly))
			assert.NilError(t, err)
			_, err = cache.Do(readOnly, "user", func() (userV2, error) { return userV2{}, errors.New("must not run") })
			assert.Assert(t, errors.Is(err, cache.ErrCorrupt), "%v", err)
			assert.ErrorContains(t, err, "Email")

			got, err := cache.Do(old, "user", func() (userV2, error) { return userV2{"a", 1, "a@example.com"}, nil })
			assert.NilError(t, err)
			assert.Equal(t, got.Email, "a@example.com")
			var back userV2
			assert.NilError(t, readOnly.Read("user", &back), "not rewritten")
			assert.Equal(t, back.Email, "a@example.com")
		})
	}
}
