package rpm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// readSQLite returns the header blobs of an rpmdb.sqlite (rpm 4.16+; table
// Packages(hnum, blob)) held in data. The database is loaded into an
// in-memory SQLite connection with sqlite3_deserialize: nothing is written
// to disk.
func readSQLite(ctx context.Context, data []byte) ([]record, error) {
	if len(data) < 100 || string(data[:16]) != "SQLite format 3\x00" {
		return nil, fmt.Errorf("%w: not an SQLite database", errBadDB)
	}
	// rpm keeps the database in WAL mode (header bytes 18 and 19 = 2); an
	// in-memory copy has no WAL file, so mark it as a rollback-journal
	// database. The driver copies the bytes into SQLite's memory; the
	// caller's are changed only until then.
	if data[18] == 2 && data[19] == 2 {
		data[18], data[19] = 1, 1
		defer func() { data[18], data[19] = 2, 2 }()
	}

	db, err := sql.Open("sqlite", "file::memory:?mode=memory")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		d, ok := dc.(interface{ Deserialize([]byte) error })
		if !ok {
			return errors.New("sqlite driver cannot deserialize")
		}
		return d.Deserialize(data)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadDB, err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadDB, err)
	}
	defer rows.Close()
	var out []record
	for len(out) < maxRecords && rows.Next() {
		var r record
		var key int64
		if err := rows.Scan(&key, &r.blob); err != nil {
			return nil, fmt.Errorf("%w: %w", errBadDB, err)
		}
		r.key = uint32(key)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadDB, err)
	}
	return out, nil
}
