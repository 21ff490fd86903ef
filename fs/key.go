package fs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxSegment is the length in bytes beyond which [KeyPath] shortens a
// segment: the safe form is cut to MaxSegment bytes and a hash of the whole
// segment is appended, which keeps every file name well under the 255-byte
// limit of common filesystems, with room for an extension.
const MaxSegment = 100

// hashLen is the number of hex digits of SHA-256 appended to a changed
// segment: 48 bits, so that two different segments with the same safe form
// would need about 16 million variants of that form before two of them were
// likely to collide.
const hashLen = 12

// ErrInvalidKey is returned, wrapped, by [KeyPath] for a key it cannot map.
var ErrInvalidKey = errors.New("invalid key")

// KeyPath returns the relative, "/"-separated path that stores key.
//
// The key is split at "/" and each segment is mapped on its own:
//
//   - ASCII letters, digits, ".", "_" and "-" are kept; every other character
//     (and every byte that is not valid UTF-8) becomes "_", and so does a "."
//     at the start of a segment, since names that begin with "." are
//     [Reserved];
//   - a segment that had to be changed, that is empty, that ends with ".",
//     that is a device name on Windows (CON, NUL, COM1, ...) or that is longer
//     than [MaxSegment] bytes (it is then shortened) gets "~" and a 12-digit
//     hex SHA-256 of its original text appended.
//
// A segment that is left alone never contains "~" and a changed one always
// ends with its hash, so two different keys never map to the same path; and
// since no mapped segment is empty, ".", ".." or contains a separator, the path
// never leaves the directory it is joined to. The only key KeyPath refuses is
// the empty key.
//
// KeyPath keeps case as it is: filesystems that ignore case (the defaults
// on macOS and Windows) see "TestA/x" and "TestA/X" as one file, which is
// why a store refuses the second of two names that differ only in case
// (see package cache).
//
// A store's files are KeyPath's paths with a file extension appended, which
// [Layout] does with one more rule, so that no directory ever takes the name
// of an entry's file. KeyPath is the layout of the stores of older versions
// of pecapiku, and of every key none of whose directories is named like a
// file.
func KeyPath(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("fs: %w: the key is empty", ErrInvalidKey)
	}
	if allKept(key) {
		return key, nil
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = segment(s)
	}
	return strings.Join(segs, "/"), nil
}

// segment maps one segment of a key; see KeyPath.
func segment(s string) string {
	if kept(s) {
		return s
	}
	out := safeForm(s)
	if out != s || strings.HasSuffix(out, ".") || windowsDevice(out) || len(out) > MaxSegment {
		return hashed(out, s)
	}
	return out
}

// safeForm returns s with every character that safe refuses, every byte that
// is not valid UTF-8 and a leading "." replaced by "_"; "_" for an empty s.
func safeForm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !safe(r) || i == 0 && r == '.' { // utf8.RuneError, for a byte that is not UTF-8, is not safe
			b.WriteByte('_')
		} else {
			b.WriteRune(r)
		}
		i += size
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// hashed returns the changed form of the segment s, whose safe form is
// out: out cut to MaxSegment bytes, "~" and the hash of s.
func hashed(out, s string) string {
	if len(out) > MaxSegment {
		out = out[:MaxSegment]
	}
	sum := sha256.Sum256([]byte(s))
	return out + "~" + hex.EncodeToString(sum[:])[:hashLen]
}

// allKept reports whether segment leaves every segment of key as it is, so
// that KeyPath is key itself, without splitting and joining it.
func allKept(key string) bool {
	for {
		seg, rest, more := strings.Cut(key, "/")
		if !kept(seg) {
			return false
		}
		if !more {
			return true
		}
		key = rest
	}
}

// kept reports whether segment leaves s as it is, which it does for most
// keys (a test's name, a fixture's): checked byte by byte without building
// the mapped form, which was most of the cost of a key's path.
func kept(s string) bool {
	if s == "" || len(s) > MaxSegment || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !safe(rune(c)) {
			return false
		}
	}
	return !windowsDevice(s)
}

// safe reports whether r may appear in a file name unchanged.
func safe(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '.' || r == '_' || r == '-'
}

// windowsDevice reports whether name would open a device on Windows: CON, PRN,
// AUX, NUL, COM0-9 and LPT0-9, in any case, with or without an extension.
func windowsDevice(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	if len(stem) < 3 || len(stem) > 4 {
		return false
	}
	switch strings.ToUpper(stem) {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(stem) == 4 {
		prefix := strings.ToUpper(stem[:3])
		return (prefix == "COM" || prefix == "LPT") && '0' <= stem[3] && stem[3] <= '9'
	}
	return false
}

// A Layout maps keys to the paths of their files in a directory whose
// entries' files have the extensions it is given, such as ".json" and
// ".gob": one file per key, and no directory with the name of a file.
//
// Its path of a key is that of [KeyPath], with one more rule: a segment
// other than the last that ends with one of the extensions, in any case,
// counts as changed, and gets "~" and the 12-digit hex SHA-256 of its
// original text appended. So the file of key "TestX/config", config.json
// with the extension ".json", never stands in the way of the directory
// of key "TestX/config.json/v" (config.json~587cb980af76), on a
// filesystem that ignores case too. Every other key has KeyPath's path.
type Layout struct {
	exts []string // lower case, each once
}

// NewLayout returns the layout of a directory whose entries' files have the
// extensions exts, each with its dot (".json"). Extensions are compared
// without regard to case.
func NewLayout(exts ...string) Layout {
	var l Layout
	for _, ext := range exts {
		ext = strings.ToLower(ext)
		if ext != "" && !slices.Contains(l.exts, ext) {
			l.exts = append(l.exts, ext)
		}
	}
	return l
}

// Path returns the relative, "/"-separated path of key in the layout,
// without an extension: the caller appends that of the entry's file. It
// refuses only the empty key, as KeyPath does.
func (l Layout) Path(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("fs: %w: the key is empty", ErrInvalidKey)
	}
	if allKept(key) && !l.fileNamedDir(key) {
		return key, nil
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		if i < len(segs)-1 && l.fileName(s) {
			segs[i] = hashed(safeForm(s), s)
			continue
		}
		segs[i] = segment(s)
	}
	return strings.Join(segs, "/"), nil
}

// FromKeyPath returns the path in the layout of the file or directory that
// [KeyPath] put at rel, a relative, "/"-separated path it returned (with or
// without an extension): rel with each segment but the last that KeyPath
// left as it is and that ends with one of the layout's extensions changed
// as the layout changes it. Since KeyPath leaves such a segment as the key
// had it, and changes every other segment as the layout does, the result
// is the layout's path of the key KeyPath gave rel, without knowing the
// key. It is how a store laid out by an older version of pecapiku is
// moved to the layout of this one.
func (l Layout) FromKeyPath(rel string) string {
	if !l.fileNamedDir(rel) {
		return rel
	}
	segs := strings.Split(rel, "/")
	for i, s := range segs[:len(segs)-1] {
		if kept(s) && l.fileName(s) {
			segs[i] = hashed(s, s)
		}
	}
	return strings.Join(segs, "/")
}

// fileNamedDir reports whether a segment of key other than the last ends
// with one of the layout's extensions.
func (l Layout) fileNamedDir(key string) bool {
	if len(l.exts) == 0 {
		return false
	}
	for {
		seg, rest, more := strings.Cut(key, "/")
		if !more {
			return false
		}
		if l.fileName(seg) {
			return true
		}
		key = rest
	}
}

// fileName reports whether name ends with one of the layout's extensions,
// without regard to case.
func (l Layout) fileName(name string) bool {
	for _, ext := range l.exts {
		if len(name) >= len(ext) && strings.EqualFold(name[len(name)-len(ext):], ext) {
			return true
		}
	}
	return false
}

// IsKeySegment reports whether seg is a segment that [KeyPath] or a
// [Layout] may produce: one they leave as it is (ASCII letters, digits, ".",
// "_" and "-", neither beginning nor ending with ".", not a Windows device
// name, at most [MaxSegment] bytes), or a changed one, a non-empty run of
// those characters, not beginning with ".", of at most MaxSegment bytes,
// followed by "~" and 12 lowercase hex digits. Every directory and every
// file name (without its extension) that pecapiku gives a key in a store is
// one, in this version's layout and in older ones.
func IsKeySegment(seg string) bool {
	if kept(seg) {
		return true
	}
	stem, sum, ok := strings.Cut(seg, "~")
	if !ok || stem == "" || len(stem) > MaxSegment || stem[0] == '.' || len(sum) != hashLen {
		return false
	}
	for i := 0; i < len(stem); i++ {
		if c := stem[i]; c >= utf8.RuneSelf || !safe(rune(c)) {
			return false
		}
	}
	for i := 0; i < len(sum); i++ {
		if c := sum[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
