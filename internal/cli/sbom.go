package cli

import (
	"os"

	"github.com/vigil-scanner/vigil/inventory"
	"github.com/vigil-scanner/vigil/sbom"
)

// readInventory reads a saved inventory: vigil's JSON report (written with
// --list-all-pkgs or --scanners none, so it lists packages), a CycloneDX or
// an SPDX JSON SBOM.
func readInventory(name string) (*inventory.Inventory, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return sbom.Read(f, name)
}
