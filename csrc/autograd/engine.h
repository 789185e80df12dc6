// The backward pass: dependency counting from the roots, then a ready queue; no recursion.
#pragma once
#include "autograd/node.h"

namespace tapegrad {

// Runs backward from `outputs` seeded with `grad_outputs` (null entries: implicit ones for
// one-element outputs). With `inputs` non-empty, returns their gradients instead of
// accumulating into leaves (autograd.grad); otherwise returns nothing.
TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph,
                        bool create_graph, const TensorList& inputs = {}, bool allow_unused = false);

// backward(inputs=...): the gradients of `inputs` only, added into their .grad (leaves and non-leaves
// alike); an input the outputs do not reach keeps its .grad.
void run_backward_into(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph,
                       bool create_graph, const TensorList& inputs);

}  // namespace tapegrad
