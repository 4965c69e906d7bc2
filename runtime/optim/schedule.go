// Package optim holds what trains a generated network besides its compiled step: the
// step learning rate schedule of the .wrn recipe and the initialisation of the parameters
// (the SGD update itself is part of the compiled training step: runtime/nn.SGDStep and the
// PTX SGD kernel).
package optim

import "github.com/wrnc/wrnc/runtime/model"

// StepLR returns the learning rate of 0-based epoch e under the recipe's step
// schedule: LR * Gamma^k, where k counts the milestones m with m <= e. This is
// torch.optim.lr_scheduler.MultiStepLR stepped once per epoch, milestones counted
// in epochs completed: with at=60 the first 60 epochs (0..59) use LR and epoch 60
// (the 61st) uses LR*Gamma.
func StepLR(r model.Recipe, e int) float64 {
	lr := r.LR
	for _, m := range r.Milestones {
		if m <= e {
			lr *= r.Gamma
		}
	}
	return lr
}
