package diskcache

// Listings returns how often d listed its directory.
func Listings(d *Dir) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.listings
}
