package node

import "github.com/vigil-scanner/vigil/inventory"

// reach returns the IDs reachable from roots through DependsOn.
func reach(byID map[string][]string, roots []string) map[string]bool {
	seen := make(map[string]bool, len(byID))
	stack := append([]string(nil), roots...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		stack = append(stack, byID[id]...)
	}
	return seen
}

// classify sets Indirect on every package not among the direct roots, and
// Dev on packages reachable from devRoots but not from prodRoots.
// Packages reachable from neither are left as they are.
func classify(pkgs []inventory.Package, prodRoots, devRoots []string) {
	byID := make(map[string][]string, len(pkgs))
	for _, p := range pkgs {
		byID[p.ID] = append(byID[p.ID], p.DependsOn...)
	}
	prod := reach(byID, prodRoots)
	dev := reach(byID, devRoots)
	direct := make(map[string]bool, len(prodRoots)+len(devRoots))
	for _, r := range prodRoots {
		direct[r] = true
	}
	for _, r := range devRoots {
		direct[r] = true
	}
	for i := range pkgs {
		id := pkgs[i].ID
		pkgs[i].Indirect = !direct[id]
		pkgs[i].Dev = dev[id] && !prod[id]
	}
}
