package cache

// LockPath exposes lockPath to the tests: the lock file of the entry at path.
var LockPath = lockPath

// IgnoresCase reports whether s finds that its filesystem ignores case,
// asking with the file or directory path.
func IgnoresCase(s *Store, path string) bool { return s.ignoresCase(path) }
