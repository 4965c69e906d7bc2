//go:build !cuda

package gpu

import "errors"

// CUDA is the cuda device; this build has none (wrnc compile --device cuda builds it).
type CUDA struct{ Device }

// CUDAAvailable reports false: this build has no cuda device.
func CUDAAvailable() bool { return false }

// NewCUDA fails: this build has no cuda device.
func NewCUDA() (*CUDA, error) {
	return nil, errors.New("this binary was built without the cuda device; rebuild it with 'wrnc compile --device cuda'")
}
