r"""Weight initialisation: the course's uniform default and LeCun's fan-in rule.

A weight matrix of shape :math:`(\mathrm{fan\_in}, \mathrm{fan\_out})` feeds each of its
``fan_out`` units a sum of ``fan_in`` products. With inputs of unit variance, the sum's
variance is ``fan_in`` times the weights' variance: weights drawn from :math:`U(-1, 1)`
(variance :math:`1/3`) give the 785 inputs of the first layer a pre-activation spread of
about :math:`\sqrt{785/3} \approx 16`, deep in the flat tails of the sigmoid. The fan-in rule
draws weights with variance :math:`1/\mathrm{fan\_in}`, so that the sum has unit variance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from backprop.checks import look_up

Initializer = Callable[[np.random.Generator, int, int], NDArray[np.float64]]


def uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray[np.float64]:
    r"""Weights drawn independently from :math:`U(-1, 1)`, the course's default.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    fan_in, fan_out : int
        The number of inputs and of units of the layer.

    Returns
    -------
    array of float64, shape (fan_in, fan_out)
    """
    return rng.uniform(-1.0, 1.0, size=(fan_in, fan_out))


def fan_in(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray[np.float64]:
    r"""Weights drawn from :math:`\mathcal N(0, 1/\mathrm{fan\_in})`: LeCun's fan-in rule.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of randomness.
    fan_in, fan_out : int
        The number of inputs and of units of the layer.

    Returns
    -------
    array of float64, shape (fan_in, fan_out)
    """
    return rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, fan_out))


INITIALIZERS: dict[str, Initializer] = {"uniform": uniform, "fan_in": fan_in}
"""The initialisation rules by name.

:meta hide-value:
"""


def get_initializer(name: str) -> Initializer:
    """Look an initialisation rule up by name.

    Raises
    ------
    ValueError
        If no rule has that name; the message lists the names there are.
    """
    return look_up(INITIALIZERS, name, "init")
