package cli

import (
	"fmt"
	"os"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/report"
)

// readInventory reads a saved inventory: vigil's JSON report (written with
// --list-all-pkgs or --scanners none, so it lists packages).
func readInventory(name string) (*inventory.Inventory, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !rep.HasPackages() {
		return nil, fmt.Errorf("%s: the report lists no packages; write it with --list-all-pkgs (or --scanners none) to match it again", name)
	}
	return rep.Inventory(), nil
}
