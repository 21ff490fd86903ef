package fs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// Filesystems that ignore case (the defaults on macOS and Windows) see
// "TestA/x" and "TestA/X" as one file; KeyPath keeps case as it is, so avoid
// keys that differ only in case there.
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
	var b strings.Builder
	b.Grow(len(s))
	changed := s == ""
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if safe(r) && !(i == 0 && r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			changed = true
		}
		i += size
	}
	out := b.String()
	if out == "" {
		out = "_"
	}
	if strings.HasSuffix(out, ".") || windowsDevice(out) || len(out) > MaxSegment {
		changed = true
	}
	if !changed {
		return out
	}
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
