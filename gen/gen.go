// Package gen holds the generated packages of the paper's reference networks, as wrnc
// writes them: `go generate ./gen` rebuilds them, and the test of this package fails when
// a committed file differs from what wrnc emits now.
package gen

//go:generate go run ../cmd/wrnc compile --emit wrn-16-4 --package-only ../testdata/wrn-16-4.wrn
//go:generate go run ../cmd/wrnc compile --emit wrn-28-10 --package-only ../testdata/wrn-28-10.wrn

// Networks maps each generated folder to the .wrn file it comes from.
var Networks = map[string]string{
	"wrn-16-4":  "../testdata/wrn-16-4.wrn",
	"wrn-28-10": "../testdata/wrn-28-10.wrn",
}
