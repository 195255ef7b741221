/* ndbgen writes an rpm ndb package database (Packages.db) holding the
 * header blobs named on the command line, in order, with rpm's own ndb
 * code (lib/backend/ndb/rpmpkg.c) - what rpm's ndb backend does for
 * each installed package - and then reads every blob back to verify.
 * Usage: ndbgen OUT.db BLOB... */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rpmpkg.h"

static unsigned char *slurp(const char *path, unsigned int *len) {
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(1); }
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(n);
	if (fread(b, 1, n, f) != (size_t)n) { perror(path); exit(1); }
	fclose(f);
	*len = n;
	return b;
}

int main(int argc, char **argv) {
	rpmpkgdb db;
	if (argc < 3) { fprintf(stderr, "usage: ndbgen OUT.db BLOB...\n"); return 2; }
	if (rpmpkgOpen(&db, argv[1], O_RDWR | O_CREAT, 0644)) { fprintf(stderr, "open failed\n"); return 1; }
	if (rpmpkgLock(db, 1)) { fprintf(stderr, "lock failed\n"); return 1; }
	for (int i = 2; i < argc; i++) {
		unsigned int idx, len;
		unsigned char *blob = slurp(argv[i], &len);
		if (rpmpkgNextPkgIdx(db, &idx) || rpmpkgPut(db, idx, blob, len)) { fprintf(stderr, "put %s failed\n", argv[i]); return 1; }
		free(blob);
	}
	rpmpkgUnlock(db, 1);
	if (rpmpkgVerify(db)) { fprintf(stderr, "verify failed\n"); return 1; }
	unsigned int *list, n;
	if (rpmpkgList(db, &list, &n) || n != (unsigned int)(argc - 2)) { fprintf(stderr, "list failed\n"); return 1; }
	for (unsigned int i = 0; i < n; i++) {
		unsigned char *blob; unsigned int len, want;
		unsigned char *orig = slurp(argv[i + 2], &want);
		if (rpmpkgGet(db, list[i], &blob, &len) || len != want || memcmp(blob, orig, len)) { fprintf(stderr, "blob %u differs\n", i); return 1; }
		free(orig);
	}
	rpmpkgClose(db);
	return 0;
}
