"""backprop: a textbook you can run.

Backpropagation for multilayer perceptrons in numpy, with every gradient checked.

The pieces, each in a module of its own:

- :mod:`backprop.activations`: activation functions beside their derivatives;
- :mod:`backprop.losses`: cross-entropy, one-hot targets and the output layer's delta;
- :mod:`backprop.initialization`: the uniform and fan-in weight initialisations;
- :mod:`backprop.network`: :class:`MLP`, its forward pass and the delta recurrence;
- :mod:`backprop.gradcheck`: :func:`gradient_check` by central differences;
- :mod:`backprop.training`: :class:`Trainer`, mini-batch SGD with momentum and early stopping;
- :mod:`backprop.idx`: a strict reader of the IDX files MNIST comes in;
- :mod:`backprop.data`: MNIST, found or downloaded, verified and split as the assignment does;
- :mod:`backprop.preprocessing`: standardised pixels and the bias input;
- :mod:`backprop.derivations`: SymPy derivations of every formula above, each proved;
- :mod:`backprop.experiments`: the report's experiments, reproducible, with a results store;
- :mod:`backprop.plotting`: training curves and per-layer gradient norms;
- :mod:`backprop.cli`: the ``backprop`` command.
"""

from backprop.activations import (
    improved_sigmoid,
    relu,
    sigmoid,
    softmax,
)
from backprop.gradcheck import gradient_check
from backprop.losses import cross_entropy, one_hot
from backprop.network import MLP, count_parameters
from backprop.training import History, StopReason, Trainer, TrainingDivergedError

__all__ = [
    "MLP",
    "History",
    "StopReason",
    "Trainer",
    "TrainingDivergedError",
    "count_parameters",
    "cross_entropy",
    "gradient_check",
    "improved_sigmoid",
    "one_hot",
    "relu",
    "sigmoid",
    "softmax",
]

__version__ = "0.1.0"
