// Package hostile holds tests that attack vigil: images built in code with
// one hostile feature each (links that climb out of the root, hard links,
// devices, odd names and whiteouts, bombs, lying archives, corrupt
// streams), package databases at the size limits, and processes killed in
// the middle of filling the layer cache or updating the database. Each
// test checks what a user would see through the real CLI: the packages
// and findings, the warnings naming the layer and the path, the exit
// code, the time and memory taken, and that nothing outside the cache
// directory was read or written. The package has no code of its own.
package hostile
