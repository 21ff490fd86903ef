package cache

import (
	"bytes"
	"encoding/gob"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// A Codec turns values into the bytes of an entry and back. Each codec has its
// own file extension, so entries of different codecs never share a file.
//
// The store checks every value it writes by decoding what the codec encoded
// and comparing the result with the value (see [ErrRoundTrip]), so a codec
// need not detect by itself what it cannot represent.
type Codec interface {
	// Name is the codec's short name, as shown in listings: "json".
	Name() string
	// Ext is the file extension of its entries, with the dot: ".json".
	Ext() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to. It reports an
	// error, never panics, for data it did not produce, including data
	// that is empty or cut short.
	Unmarshal(data []byte, v any) error
}

// The codecs this package provides. JSON is the default.
var (
	// JSON stores values as indented JSON, in the layout of encoding/json:
	// two spaces, fields in declaration order, map keys sorted, "<", ">"
	// and "&" left as they are, a trailing newline. Equal values give
	// identical bytes, so re-recording an unchanged value leaves no diff.
	// A string that is not valid UTF-8 cannot be encoded (encoding/json
	// would change it). Decoding is strict: members the type does not have
	// (names are matched with their case), a member given twice and
	// anything after the value are errors, so an entry recorded from
	// another type, edited by mistake, or made of two writes run together
	// is reported rather than half-read. So is an entry recorded before
	// its type gained a field: the first object of each struct type found
	// in the first 16 KiB of the entry must have every member the type
	// always writes (all but omitempty ones), and a null must not stand
	// where the type cannot be null.
	//
	// A time.Time is written in RFC 3339 with its offset from UTC, and so
	// replays in a location that has only that offset: the instant is
	// kept, as the round-trip check (which compares times with their Equal
	// method) accepts, but not the location's name nor its daylight-saving
	// rules. Keep the name in a field of its own when it matters. Gob does
	// the same.
	JSON Codec = jsonCodec{}
	// Gob stores values with encoding/gob: compact, Go-typed binary. Values
	// held in interfaces need gob.Register. Decoding compares the fields
	// of every struct type the entry defines with those of the Go type it
	// decodes into, by name: an entry of another type, or of another
	// version of the type, is an error rather than a value with fields
	// dropped or left zero.
	Gob Codec = gobCodec{}
	// Raw stores a []byte or a string verbatim, with no framing: the entry
	// is the value, a file any tool can open. Named types whose underlying
	// type is []byte or string are accepted too; any other type is an
	// error. Since there is no framing, a raw entry cannot be found
	// corrupt: any content is a valid value.
	Raw Codec = rawCodec{}
)

// codecs lists the codecs of this package, for telling an entry's codec from
// its file extension.
var codecs = []Codec{JSON, Gob, Raw}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Ext() string  { return ".json" }

// The JSON codec is github.com/go-json-experiment/json, the implementation
// that became encoding/json/v2, run with the options of encoding/json (v1)
// so that an entry holds the bytes encoding/json has always written for a
// value: fields in declaration order, map keys sorted, time.Time in RFC
// 3339, time.Duration in nanoseconds, []byte in base64, nil slices and maps
// as null. On top of those, the codec is strict where encoding/json is
// lenient:
//
//   - a string that is not valid UTF-8 is an encoding error naming its
//     JSON path, where encoding/json would write U+FFFD in its place;
//   - decoding rejects members the type does not have, a member given
//     twice, names that match a field only when case is ignored, and
//     anything after the value.
//
// jsonEncodeOptions and jsonDecodeOptions add to these the functions for
// encoding/json's Number (below); see jsonOptions for when they are used.
var (
	jsonEncodeBase = json.JoinOptions(
		jsonv1.DefaultOptionsV1(),
		jsonv1.ReportErrorsWithLegacySemantics(false), // errors that name the JSON path
		jsontext.AllowInvalidUTF8(false),
		jsontext.EscapeForHTML(false),
		jsontext.WithIndent("  "),
	)
	jsonDecodeBase = json.JoinOptions(
		jsonv1.DefaultOptionsV1(),
		jsonv1.ReportErrorsWithLegacySemantics(false),
		jsontext.AllowInvalidUTF8(false),
		jsontext.AllowDuplicateNames(false),
		json.RejectUnknownMembers(true),
		json.MatchCaseInsensitiveNames(false),
	)
	jsonEncodeOptions = json.JoinOptions(jsonEncodeBase, json.WithMarshalers(stdNumberMarshaler))
	jsonDecodeOptions = json.JoinOptions(jsonDecodeBase, json.WithUnmarshalers(stdNumberUnmarshaler))
)

// jsonOptions returns the options for encoding (or decoding) a value of
// type t, a pointer when decoding. The functions for encoding/json's Number
// cost the library a look-up of the type of every value it encodes or
// decodes, which would make the codec markedly slower than the library's
// defaults, so they are passed only when the value can hold a Number.
func jsonOptions(t reflect.Type, encode bool) json.Options {
	switch {
	case encode && mayHoldNumber(t):
		return jsonEncodeOptions
	case encode:
		return jsonEncodeBase
	case mayHoldNumber(t):
		return jsonDecodeOptions
	}
	return jsonDecodeBase
}

var (
	numberType  = reflect.TypeFor[stdjson.Number]()
	holdsNumber sync.Map // reflect.Type → bool: mayHoldNumber
)

// mayHoldNumber reports whether a value of type t can hold an encoding/json
// Number, or might: through an interface, or inside a type that encodes or
// decodes itself with the library's encoder or decoder, and so with the
// options in force. A nil t (the value nil) holds nothing.
func mayHoldNumber(t reflect.Type) bool {
	if t == nil {
		return false
	}
	if v, ok := holdsNumber.Load(t); ok {
		return v.(bool)
	}
	v := numberWithin(t, map[reflect.Type]bool{})
	holdsNumber.Store(t, v)
	return v
}

func numberWithin(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == numberType {
		return true
	}
	if seen[t] {
		return false // its fields are being looked at already
	}
	seen[t] = true
	for _, m := range []reflect.Type{jsonMarshalerToType, jsonUnmarshalFromType} {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return numberWithin(t.Elem(), seen)
	case reflect.Map:
		return numberWithin(t.Key(), seen) || numberWithin(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if numberWithin(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// encoding/json's Number is a string type that encoding/json writes as the
// number it holds. The implementation of Go 1.26 and older does not know
// the type (Go 1.27's standard library, which this module uses there, does):
// these functions give it the same form on every Go release, so that a
// fixture does not change with the toolchain.
var (
	stdNumberMarshaler = json.MarshalToFunc(func(enc *jsontext.Encoder, n stdjson.Number) error {
		if n == "" {
			n = "0" // as encoding/json writes an empty Number
		}
		if tok := jsontext.Value(n); tok.Kind() != '0' || !tok.IsValid() {
			return fmt.Errorf("invalid number literal %q", string(n))
		}
		return enc.WriteValue(jsontext.Value(n))
	})
	stdNumberUnmarshaler = json.UnmarshalFromFunc(func(dec *jsontext.Decoder, n *stdjson.Number) error {
		if dec.PeekKind() != '0' {
			return errors.ErrUnsupported // null, or a mistake that the default decoding reports
		}
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		*n = stdjson.Number(v)
		return nil
	})
)

func (jsonCodec) Marshal(v any) ([]byte, error) {
	data, err := json.Marshal(v, jsonOptions(reflect.TypeOf(v), true))
	if err != nil {
		return nil, jsonError("encode", err)
	}
	return append(data, '\n'), nil
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmpty
	}
	if bytes.HasPrefix(data, utf8BOM) {
		return errors.New("the file begins with a UTF-8 byte order mark (EF BB BF), which JSON does not allow; remove those three bytes")
	}
	if err := json.Unmarshal(data, v, jsonOptions(reflect.TypeOf(v), false)); err != nil {
		return jsonError("decode", err)
	}
	return jsonShape(data, reflect.TypeOf(v).Elem())
}

// jsonError says what went wrong at which JSON path, from the fields of the
// library's error, whose own text deliberately varies its wording between
// runs: a message that changes from run to run would make a fixture's
// failure look like a new one each time.
func jsonError(op string, err error) error {
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	var msg string
	switch {
	case errors.As(err, &se) && errors.Is(err, json.ErrUnknownName):
		msg = fmt.Sprintf("%s: %s has no field of that name (the entry was recorded from another type, or edited)", where(se.JSONPointer), se.GoType)
	case errors.As(err, &se):
		msg = fmt.Sprintf("%s: cannot %s", where(se.JSONPointer), op)
		switch {
		case op == "decode" && se.JSONKind != 0 && se.GoType != nil:
			msg += fmt.Sprintf(" a JSON %s into %s", kindName(se.JSONKind), se.GoType)
		case se.GoType != nil:
			msg += " " + se.GoType.String()
		}
		if se.Err != nil {
			msg += ": " + se.Err.Error()
		}
		if op == "encode" && se.GoType != nil && isFloat(se.GoType) {
			msg += "; JSON has no NaN or infinity: store such values with the gob codec (cache.Gob)"
		}
	case errors.As(err, &sy) && op == "encode":
		msg = fmt.Sprintf("%s: %s", where(sy.JSONPointer), sy.Err)
		if sy.Err != nil && sy.Err.Error() == "invalid UTF-8" {
			msg = fmt.Sprintf("%s: a string that is not valid UTF-8, which JSON cannot hold unchanged; store text as valid UTF-8 and binary data as a []byte (written in base64), or use the gob codec (cache.Gob)", where(sy.JSONPointer))
		}
	case errors.As(err, &sy):
		msg = fmt.Sprintf("%s at byte %d", sy.Err, sy.ByteOffset)
		if sy.JSONPointer != "" {
			msg += fmt.Sprintf(" (%s)", where(sy.JSONPointer))
		}
	default:
		return err
	}
	return &codecError{msg: msg, err: err}
}

// codecError is an error of the JSON codec, worded by jsonError.
type codecError struct {
	msg string
	err error
}

func (e *codecError) Error() string { return e.msg }
func (e *codecError) Unwrap() error { return e.err }

// where names the place of a JSON pointer in a message.
func where(ptr jsontext.Pointer) string {
	if ptr == "" {
		return "at the top level"
	}
	return "at " + string(ptr)
}

// kindName names a kind of JSON value.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '0':
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

// errEmpty is what decoding an empty file gives.
var errEmpty = errors.New("the file is empty")

// utf8BOM is the byte order mark some editors put at the start of a file.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// isFloat reports whether t is a float or complex type, or a composite of
// them, whose NaNs and infinities JSON cannot hold.
func isFloat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }
func (gobCodec) Ext() string  { return ".gob" }

func (gobCodec) Marshal(v any) (data []byte, err error) {
	// gob's Encoder panics, rather than fail, on a nil pointer at the top
	// level.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, fmt.Errorf("gob: cannot encode nil pointer of type %s: gob cannot store a nil pointer at the top level; return a non-nil pointer, or the value itself", rv.Type())
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, gobHint(err)
	}
	return buf.Bytes(), nil
}

// gobHint adds to an error of gob about an unregistered type held in an
// interface what fixes it: gob sends such a value with the name its type
// was registered under, in every process that writes or reads it.
func gobHint(err error) error {
	if msg := err.Error(); strings.Contains(msg, "not registered for interface") {
		return fmt.Errorf("%w; gob needs every type held in an interface registered, in the process that writes the entry and in those that read it: call gob.Register with a value of the type, in an init function of its package", err)
	}
	return err
}

func (gobCodec) Unmarshal(data []byte, v any) error {
	if len(data) == 0 {
		return errEmpty
	}
	// bytes.Reader is an io.ByteReader, so the decoder reads exactly the
	// messages of one value and what is left over can be detected.
	r := bytes.NewReader(data)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return gobHint(err)
	}
	if r.Len() > 0 {
		return fmt.Errorf("unexpected data after the value: %d bytes", r.Len())
	}
	return gobShape(data, reflect.TypeOf(v).Elem())
}

type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }
func (rawCodec) Ext() string  { return ".raw" }

var byteType = reflect.TypeOf(byte(0))

// RawType reports whether the [Raw] codec stores values of type t: a string
// or a []byte, named or not.
func RawType(t reflect.Type) bool {
	return t.Kind() == reflect.String ||
		t.Kind() == reflect.Slice && t.Elem() == byteType
}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !RawType(rv.Type()) {
		return nil, fmt.Errorf("the raw codec stores only []byte and string values, not %s; use the json or gob codec", typeName(v))
	}
	if rv.Kind() == reflect.String {
		return []byte(rv.String()), nil
	}
	return rv.Bytes(), nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	switch p := v.(type) {
	case *[]byte:
		*p = data
		return nil
	case *string:
		*p = string(data)
		return nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || !RawType(rv.Type().Elem()) {
		return fmt.Errorf("the raw codec decodes only into *[]byte and *string, not %s; use the json or gob codec", typeName(v))
	}
	elem := rv.Elem()
	if elem.Kind() == reflect.String {
		elem.SetString(string(data))
	} else {
		elem.Set(reflect.ValueOf(data).Convert(elem.Type()))
	}
	return nil
}

// typeName names the dynamic type of v for a message.
func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}
