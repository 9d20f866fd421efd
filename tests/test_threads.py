"""The thread policy: every core for large products, one thread for small, and back after."""

import os

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

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
