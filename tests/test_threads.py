"""The thread policy: every core for large products, one thread for small, and back after."""

import os

import numpy as np
import pytest
from conftest import make_inputs
from threadpoolctl import threadpool_info, threadpool_limits

from backprop import MLP, Trainer
from backprop.threads import (
    ONE_THREAD,
    PARALLEL_WORK,
    ThreadPolicy,
    blas_threads,
    largest_product,
    threads_for,
)


def blas_counts():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


def test_large_products_get_every_core_and_small_ones_one_thread():
    assert threads_for(PARALLEL_WORK - 1) == 1
    assert threads_for(PARALLEL_WORK) == os.cpu_count()


def test_the_largest_product_of_the_assignments_step_is_one_thread_and_a_wide_one_is_not():
    assert largest_product((785, 64, 10), 32) == 32 * 785 * 64
    assert threads_for(largest_product((785, 64, 10), 32)) == 1
    assert threads_for(largest_product((785, 1024, 10), 32)) == os.cpu_count()
    assert threads_for(largest_product((785, 64, 10), 4096)) == os.cpu_count()


@pytest.mark.parametrize("count", [1, 2])
def test_a_context_sets_the_threads_and_restores_them(count):
    with threadpool_limits(3, user_api="blas"):
        with blas_threads(count):
            assert set(blas_counts()) == {count}
        assert set(blas_counts()) == {3}


def test_a_policy_chooses_by_size_unless_it_names_a_count():
    with threadpool_limits(3, user_api="blas"):
        with ThreadPolicy().steps(PARALLEL_WORK):
            assert set(blas_counts()) == {os.cpu_count()}
        with ThreadPolicy().checks(PARALLEL_WORK - 1):
            assert set(blas_counts()) == {1}
        with ONE_THREAD.checks(PARALLEL_WORK):
            assert set(blas_counts()) == {1}


def test_one_thread_or_two_train_the_same_network_to_rounding():
    """OpenBLAS may split a product of this size differently on one thread and on two, which
    changes the order of its sums: each of the 785-term sums can move by a few float64
    roundings (about 1e-16 relative), and twenty steps carry that no further than 1e-12."""
    rng = np.random.default_rng(0)
    X, y = make_inputs(rng, 2_560, 785), rng.integers(0, 10, 2_560)
    histories = [Trainer(MLP([64, 10], init="fan_in"), batch_size=128,
                         threads=ThreadPolicy(count, count)).fit(X, y, X[:512], y[:512], 1)
                 for count in (1, 2)]
    one, two = histories
    assert one.batch_loss.keys() == two.batch_loss.keys()
    for step, loss in one.batch_loss.items():
        assert two.batch_loss[step] == pytest.approx(loss, rel=1e-12)
    assert two.val_loss[one.steps] == pytest.approx(one.val_loss[one.steps], rel=1e-12)
