"""Derivations as code: SymPy proves every formula the network uses, on the network's own code.

Each :class:`Derivation` holds a claim, the steps a student would write to reach it, what
exactly is proved (its ``scope``), and the package's functions it justifies; ``verify()``
proves it symbolically by running those very functions on arrays of SymPy symbols
(:mod:`backprop.derivations.symbolic`) and comparing them with SymPy's own differentiation.
:data:`DERIVATIONS` lists them in the order a course teaches them, and
:func:`derivations_for` finds the derivations behind a function, whose docstring names them
in turn.

========================  ==============================================================
derivation                runs on symbols
========================  ==============================================================
sigmoid-derivative        ``sigmoid``, ``sigmoid_derivative``
sigmoid-tanh-form         ``sigmoid``
improved-sigmoid-...      ``improved_sigmoid``, ``improved_sigmoid_derivative``
relu-derivative           ``relu``, ``relu_derivative``
softmax-shift-invariance  ``softmax``
softmax-jacobian          ``softmax``, ``softmax_derivative``
softmax-cross-entropy     ``softmax`` and the losses
output-delta-general      ``sigmoid``, ``sigmoid_derivative`` (squared error)
hidden-layer-update       ``network.forward``, ``network.backward`` and the loss (Task 1a)
delta-recurrence          the same, 1 to 3 hidden layers, with each activation
batched-gradient          the same on a batch (Task 1b), and ``training.sgd_step``
momentum-conventions      ``training.momentum_step``
parameter-count           ``network.parameter_count``
equal-width               ``network.parameter_count`` (Task 4d)
sigmoid-slope-bound       ``sigmoid``, ``sigmoid_derivative`` (why gradients vanish)
========================  ==============================================================
"""

from backprop.derivations import (
    activations,
    backpropagation,
    momentum,
    parameters,
    softmax,
    symbolic,
    vanishing,
)
from backprop.derivations.core import (
    DERIVATIONS,
    Derivation,
    Step,
    derivations_for,
    is_zero,
    qualified_name,
    verify_all,
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
    "symbolic",
    "vanishing",
    "verify_all",
]
