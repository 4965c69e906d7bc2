package ptx

import (
	"github.com/wrnc/wrnc/compiler/pass"
	"github.com/wrnc/wrnc/runtime/contract"
)

// tile is the GEMM tiling the compiler's selection pass gives one pass of conv c.
func tile(c contract.Conv, p contract.Pass, m Math) contract.Selection {
	return pass.GPUConv(c, p, m.String())
}
