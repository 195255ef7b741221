package gobinary

import "github.com/vigil-scanner/vigil/inventory"

type inventoryPackage = inventory.Package
