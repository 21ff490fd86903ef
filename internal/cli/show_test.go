package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"
	"gotest.tools/v3/assert"
)

// hostile is a raw entry that would, printed as it is on a terminal, clear
// the screen, retitle the window and hide what follows.
const hostile = "before\x1b[2J\x1b]0;owned\x07\r\x9b31mafter\xff\tend\n"

func TestEscapeControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\n\twith tab\n", "plain text\n\twith tab\n"},
		{hostile, `before\x1b[2J\x1b]0;owned\a\r\x9b31mafter\xff` + "\tend\n"},
		{"é ü 日本\n", "é ü 日本\n"},
		{"\u2028\x7f\x00\u009b", `\u2028\x7f\x00\u009b`},
	} {
		assert.Equal(t, escapeControls(tc.in), tc.want)
	}
}

// TestShowOnTerminal runs show with a terminal as its output, a
// pseudo-terminal: the control characters of a raw entry come out escaped.
// Into a pipe or a file they come out byte for byte.
func TestShowOnTerminal(t *testing.T) {
	dir := t.TempDir()
	entry := filepath.Join(dir, "testdata", ".pecapiku", "TestA", "x.raw")
	assert.NilError(t, os.MkdirAll(filepath.Dir(entry), 0o755))
	assert.NilError(t, os.WriteFile(entry, []byte(hostile), 0o644))

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	var stderr bytes.Buffer
	code := runIn(dir, []string{"show", entry}, tty, &stderr)
	tty.Close()
	assert.Equal(t, code, 0, stderr.String())
	screen, _ := io.ReadAll(ptmx) // ends with an error once the terminal is closed
	// The terminal turns "\n" into "\r\n" on output.
	got := strings.ReplaceAll(string(screen), "\r\n", "\n")
	assert.Equal(t, got, `before\x1b[2J\x1b]0;owned\a\r\x9b31mafter\xff`+"\tend\n")

	file, err := os.Create(filepath.Join(dir, "out"))
	assert.NilError(t, err)
	code = runIn(dir, []string{"show", entry}, file, &stderr)
	assert.NilError(t, file.Close())
	assert.Equal(t, code, 0, stderr.String())
	out, err := os.ReadFile(filepath.Join(dir, "out"))
	assert.NilError(t, err)
	assert.Equal(t, string(out), hostile)
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1048576", want: 1 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "64MiB", want: 64 << 20},
		{in: "2 GiB", want: 2 << 30},
		{in: "3MB", want: 3 << 20},
		{in: "10B", want: 10},
		{in: "0", err: `"0" is not a size`},
		{in: "-5", err: `"-5" is not a size`},
		{in: "lots", err: `"lots" is not a size`},
		{in: "9999999TiB", err: `is not a size`},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		assert.NilError(t, err, tc.in)
		assert.Equal(t, int64(b), tc.want, tc.in)
	}
}

// FuzzEscapeControls: whatever a raw entry holds, what show prints on a
// terminal is valid UTF-8 and holds no character a terminal would obey
// other than newline and tab, and text without such characters comes out
// as it is.
func FuzzEscapeControls(f *testing.F) {
	for _, s := range []string{hostile, "plain\n", "\u2028\u2029\u0085", "\xff\xfe", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeControls(s)
		if !utf8.ValidString(out) {
			t.Fatalf("escapeControls(%q) = %q, not UTF-8", s, out)
		}
		plain := utf8.ValidString(s)
		for _, r := range out {
			if r == '\n' || r == '\t' {
				continue
			}
			if r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 || r == '\u2028' || r == '\u2029' {
				t.Fatalf("escapeControls(%q) = %q holds %U", s, out, r)
			}
		}
		for _, r := range s {
			if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 || r == '\u2028' || r == '\u2029') {
				plain = false
			}
		}
		if plain && out != s {
			t.Fatalf("escapeControls(%q) = %q, but it holds nothing to escape", s, out)
		}
	})
}
