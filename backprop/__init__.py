"""backprop: a textbook you can run.

Backpropagation for multilayer perceptrons in numpy, with every gradient checked.

The pieces, each in a module of its own:

- :mod:`backprop.elementary`: exp, log and tanh for float arrays and for arrays of symbols;
- :mod:`backprop.checks`: the one checking boundary of every public entry point;
- :mod:`backprop.activations`: activation functions beside their derivatives;
- :mod:`backprop.losses`: cross-entropy, one-hot targets and the output layer's delta;
- :mod:`backprop.initialization`: the uniform and fan-in weight initialisations;
- :mod:`backprop.network`: :class:`MLP`, its forward pass and the delta recurrence;
- :mod:`backprop.gradcheck`: :func:`gradient_check` by central differences;
- :mod:`backprop.training`: :class:`Trainer`, mini-batch SGD with momentum and early stopping;
- :mod:`backprop.inplace`: the training step and the scoring in buffers kept between calls;
- :mod:`backprop.threads`: how many BLAS threads a product gets, by its size;
- :mod:`backprop.idx`: a strict reader of the IDX files MNIST comes in;
- :mod:`backprop.data`: MNIST, found or downloaded, verified and split as the assignment does;
- :mod:`backprop.preprocessing`: standardised pixels and the bias input;
- :mod:`backprop.derivations`: SymPy derivations of every formula above, each proved;
- :mod:`backprop.runs`: the report's experiments as configurations, and what a run records;
- :mod:`backprop.experiments`: running them, or serving them from the store;
- :mod:`backprop.progress`: progress displays, a widget in Jupyter and a bar on a terminal;
- :mod:`backprop.store`: the results store, keyed by configuration, code and data;
- :mod:`backprop.reports`: summary tables and measures of runs;
- :mod:`backprop.plotting`: training curves and per-layer gradient norms;
- :mod:`backprop.exercises`: exercises checked by hypothesis and SymPy;
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
