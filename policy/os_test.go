package policy

import "github.com/vigil-scanner/vigil/inventory"

func inventoryOSValue() inventory.OS {
	return inventory.OS{Family: "alpine", Name: "3.10.4", EOSL: true}
}
