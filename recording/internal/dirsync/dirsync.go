// Package dirsync makes new directory entries (a created, linked or renamed
// file) durable: a file's own fsync does not cover its name.
package dirsync

// Sync fsyncs directory dir. It returns the error of opening or syncing it
// where the OS can sync a directory (Unix), and nil where it cannot
// (Windows: a directory cannot be flushed, and NTFS journals its entries)
// or the filesystem declines (EINVAL, ENOTSUP).
func Sync(dir string) error { return syncDir(dir) }
