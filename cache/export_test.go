package cache

// LockPath exposes lockPath to the tests: the lock file of the entry at path.
var LockPath = lockPath
