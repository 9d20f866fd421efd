"""Reference answers to the exercises, written as a student would write them.

Each is plain numpy, complete on its own (it uses nothing but ``numpy as np``), independent
of the rest of the package: :mod:`backprop.exercises` checks that it agrees with the
package's own functions, and the book shows it, hidden until asked for, as the solution of
its exercise.
"""

from __future__ import annotations

import numpy as np


def sigmoid_derivative(a):
    """sigma'(z) from the output a = sigma(z)."""
    return a * (1 - a)


def improved_sigmoid_derivative(a):
    """f'(z) for f(z) = 1.7159 tanh(2z/3), from the output a = f(z)."""
    return 2 / 3 * (1.7159 - a * a / 1.7159)


def softmax(z):
    """Row-wise softmax, shifted by each row's largest logit: no overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(targets, outputs):
    """The mean over the N samples of -sum_k y_k ln y_hat_k."""
    return float(-np.sum(targets * np.log(outputs)) / len(outputs))


def one_hot(labels, num_classes):
    """Row n is all zeros but a one in column labels[n]."""
    return (np.asarray(labels)[:, None] == np.arange(num_classes)).astype(float)


def output_delta(targets, outputs):
    """dC/dz at the softmax output, for the mean cross-entropy."""
    return (outputs - targets) / len(outputs)


def backward(weights, X, targets):
    """Every weight gradient, by the delta recurrence (sigmoid layers)."""
    a = [X]
    for W in weights[:-1]:
        a.append(1 / (1 + np.exp(-(a[-1] @ W))))
    z = a[-1] @ weights[-1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    a.append(e / e.sum(axis=1, keepdims=True))
    delta = (a[-1] - targets) / len(X)
    gradients = []
    for l in range(len(weights), 0, -1):
        gradients.insert(0, a[l - 1].T @ delta)
        if l > 1:
            delta = a[l - 1] * (1 - a[l - 1]) * (delta @ weights[l - 1].T)
    return gradients


def momentum_step(weights, velocity, gradient, learning_rate, momentum):
    """V <- g + momentum v, then W <- W - learning_rate v."""
    velocity = gradient + momentum * velocity
    return weights - learning_rate * velocity, velocity


def parameter_count(layer_sizes):
    """One weight per pair of units in consecutive layers."""
    sizes = layer_sizes
    return sum(sizes[l - 1] * sizes[l] for l in range(1, len(sizes)))


def delta_norms(weights, X, targets):
    """The norm of each hidden layer's mean delta, first hidden layer first."""
    a = [X]
    for W in weights[:-1]:
        a.append(1 / (1 + np.exp(-(a[-1] @ W))))
    z = a[-1] @ weights[-1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    delta = (e / e.sum(axis=1, keepdims=True) - targets) / len(X)
    norms = []
    for l in range(len(weights), 1, -1):
        delta = a[l - 1] * (1 - a[l - 1]) * (delta @ weights[l - 1].T)
        # The rows carry the 1/N already: their sum is the batch's mean delta.
        norms.insert(0, float(np.linalg.norm(delta.sum(axis=0))))
    return norms


def standardise(images, mean, std):
    """(x - mean) / std for every pixel, then a bias column of ones."""
    X = (images - mean) / std
    return np.hstack([X, np.ones((len(X), 1))])


def array_shapes(layer_sizes, N):
    """Each layer's shapes of W, its input a, z, delta and dC/dW, at batch N."""
    shapes = []
    for l in range(1, len(layer_sizes)):
        n_in, n_out = layer_sizes[l - 1], layer_sizes[l]
        W = (n_in, n_out)
        shapes.append((W, (N, n_in), (N, n_out), (N, n_out), W))
    return shapes


def central_differences(loss, W, epsilon):
    """(C(W + eps E_ij) - C(W - eps E_ij)) / (2 eps), one weight at a time."""
    W = W.copy()
    gradient = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        w = W[index]
        W[index] = w + epsilon
        plus = loss(W)
        W[index] = w - epsilon
        minus = loss(W)
        W[index] = w
        gradient[index] = (plus - minus) / (2 * epsilon)
    return gradient
