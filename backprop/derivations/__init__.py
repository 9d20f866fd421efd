"""Derivations as code: SymPy proves every formula the network uses.

Each :class:`Derivation` holds a claim, the steps a student would write to reach it, what
exactly is proved (its ``scope``), and the numpy functions it justifies; ``verify()`` proves
it symbolically. :data:`DERIVATIONS` lists them in the order a course teaches them, and
:func:`derivations_for` finds the derivations behind a numpy function, whose docstring names
them in turn.

========================  ============================================================
derivation                justifies
========================  ============================================================
sigmoid-derivative        :func:`backprop.activations.sigmoid_derivative`
sigmoid-tanh-form         :func:`backprop.activations.sigmoid`
improved-sigmoid-...      :func:`backprop.activations.improved_sigmoid_derivative`
relu-derivative           :func:`backprop.activations.relu_derivative`
softmax-shift-invariance  :func:`backprop.activations.softmax`
softmax-jacobian          :func:`backprop.activations.softmax_derivative`
softmax-cross-entropy     :func:`backprop.losses.cross_entropy_delta`
hidden-layer-update       :meth:`backprop.MLP.backward` (Task 1a)
delta-recurrence          :meth:`backprop.MLP.backward`, any depth
batched-gradient          :meth:`backprop.MLP.backward` (Task 1b)
momentum-conventions      :func:`backprop.training.momentum_step`
parameter-count           :func:`backprop.count_parameters`
equal-width               :func:`backprop.count_parameters` (Task 4d)
========================  ============================================================
"""

from backprop.derivations import activations, backpropagation, momentum, parameters, softmax
from backprop.derivations.core import (
    DERIVATIONS,
    Derivation,
    Step,
    derivations_for,
    is_zero,
    qualified_name,
)

__all__ = [
    "DERIVATIONS",
    "Derivation",
    "Step",
    "activations",
    "backpropagation",
    "derivations_for",
    "is_zero",
    "momentum",
    "parameters",
    "qualified_name",
    "softmax",
]
