import numpy as np
import pytest
from conftest import make_inputs
from hypothesis import given
from hypothesis import strategies as st

from backprop import MLP, History, StopReason, Trainer, TrainingDivergedError, one_hot
from backprop.threads import ThreadPolicy
from backprop.training import batch_indices, sgd_step


def small_problem(seed=0, rows=64, input_size=9, classes=4):
    rng = np.random.default_rng(seed)
    X = make_inputs(rng, rows, input_size)
    return X, rng.integers(0, classes, rows)


def test_learns_separable_blobs(blobs):
    X_train, y_train, X_val, y_val = blobs
    model = MLP([16, 4], input_size=9, init="fan_in")
    history = Trainer(model, learning_rate=0.1, batch_size=16).fit(
        X_train, y_train, X_val, y_val, epochs=10
    )
    assert history.stop_reason == StopReason.EPOCHS
    assert history.val_accuracy[history.steps] >= 0.97
    assert np.mean(model.predict(X_val) == y_val) == history.val_accuracy[history.steps]
    first, last = list(history.batch_loss.values())[:5], list(history.batch_loss.values())[-5:]
    assert np.mean(last) < np.mean(first) / 5


@given(st.integers(1, 200), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_every_sample_appears_once_per_epoch(num_samples, batch_size, seed):
    rng = np.random.default_rng(seed)
    rows = np.arange(num_samples)
    epoch = [rows[batch] for batch in batch_indices(num_samples, batch_size, rng)]
    assert len(epoch) == num_samples // batch_size
    assert all(len(batch) == batch_size for batch in epoch)
    seen = np.concatenate([rows[:0], *epoch])
    assert len(np.unique(seen)) == len(seen) == num_samples // batch_size * batch_size
    in_order = np.concatenate([rows[:0], *(rows[b] for b in batch_indices(num_samples,
                                                                           batch_size))])
    np.testing.assert_array_equal(in_order, rows[: len(in_order)])


def test_shuffling_draws_a_new_order_every_epoch():
    rng = np.random.default_rng(0)
    first = np.concatenate(list(batch_indices(100, 10, rng)))
    second = np.concatenate(list(batch_indices(100, 10, rng)))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(first), np.arange(100))


def reference_sgd(model, X, y, learning_rate, batch_size, momentum, epochs, seed):
    """The update rule written out plainly: v = g + momentum v; W -= learning_rate v."""
    rng = np.random.default_rng(seed)
    velocities = [np.zeros_like(W) for W in model.weights]
    for _ in range(epochs):
        for batch in batch_indices(len(X), batch_size, rng):
            gradients = model.backward(X[batch], y[batch])
            velocities = [g + momentum * v for g, v in zip(gradients, velocities, strict=True)]
            model.weights = [W - learning_rate * v
                             for W, v in zip(model.weights, velocities, strict=True)]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_trainer_follows_the_update_rule(momentum):
    X, y = small_problem()
    trained, reference = MLP([8, 4], input_size=9, seed=3), MLP([8, 4], input_size=9, seed=3)
    Trainer(trained, 0.05, batch_size=8, momentum=momentum, early_stopping=None,
            seed=5).fit(X, y, X, y, epochs=3)
    reference_sgd(reference, X, y, 0.05, 8, momentum, epochs=3, seed=5)
    for w, v in zip(trained.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(w, v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_seeds_give_bit_identical_runs(dtype):
    X, y = small_problem()
    runs = []
    for _ in range(2):
        model = MLP([8, 4], input_size=9, init="fan_in", dtype=dtype)
        history = Trainer(model, 0.1, batch_size=8, momentum=0.9, seed=11).fit(X, y, X, y,
                                                                                 epochs=4)
        runs.append((model.weights, history))
    (weights_a, history_a), (weights_b, history_b) = runs
    for w, v in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(w, v)
    assert history_a == history_b
    model = MLP([8, 4], input_size=9, init="fan_in", dtype=dtype)
    Trainer(model, 0.1, batch_size=8, momentum=0.9, seed=12).fit(X, y, X, y, epochs=4)
    assert not np.array_equal(model.weights[0], weights_a[0])


def test_history_records_every_step_and_five_checks_per_epoch():
    X, y = small_problem(rows=100)
    history = Trainer(MLP([8, 4], input_size=9), batch_size=10, early_stopping=None).fit(
        X, y, X[:30], y[:30], epochs=3
    )
    assert history.steps_per_epoch == 10
    assert list(history.batch_loss) == list(range(30))
    checks = list(range(0, 31, 2))
    assert list(history.val_loss) == list(history.val_accuracy) == checks
    assert list(history.train_accuracy) == checks
    steps, values = history.series("val_loss")
    np.testing.assert_array_equal(steps, checks)
    assert values[0] == history.val_loss[0]
    assert history.best_val_loss == min(history.val_loss.values())
    assert history.val_loss[history.best_step] == history.best_val_loss


def test_without_a_train_check_size_a_check_scores_the_whole_training_set():
    X, y = small_problem(rows=50)
    model = MLP([8, 4], input_size=9)
    history = Trainer(model, batch_size=10, early_stopping=None, shuffle=False,
                      train_check_size=None).fit(X, y, X[:5], y[:5], epochs=1)
    assert history.train_accuracy[history.steps] == np.mean(model.predict(X) == y)


def test_a_train_check_size_scores_the_first_training_images():
    X, y = small_problem(rows=50)
    model = MLP([8, 4], input_size=9)
    history = Trainer(model, batch_size=10, early_stopping=None, train_check_size=20).fit(
        X, y, X[:5], y[:5], epochs=1
    )
    final = history.steps
    assert history.train_accuracy[final] == np.mean(model.predict(X[:20]) == y[:20])
    assert history.train_loss[final] == pytest.approx(model.loss(X[:20], y[:20]), rel=1e-12)


def test_early_stopping_after_patience_checks_without_improvement(blobs):
    X_train, y_train, X_val, y_val = blobs
    # Validation labels that contradict the training labels: the validation loss rises as
    # soon as the network learns.
    wrong = (y_val + 1) % 4
    patience = 4
    history = Trainer(MLP([16, 4], input_size=9, init="fan_in"), batch_size=16,
                      early_stopping=patience).fit(X_train, y_train, X_val, wrong, epochs=50)
    assert history.stop_reason == StopReason.EARLY_STOPPING
    checks = list(history.val_loss)
    assert checks.index(history.best_step) == len(checks) - 1 - patience
    assert all(history.val_loss[s] >= history.best_val_loss for s in checks[-patience:])
    assert history.steps < 50 * history.steps_per_epoch


def test_dense_checks_are_added_where_asked():
    X, y = small_problem(rows=200)
    history = Trainer(MLP([8, 4], input_size=9), batch_size=10, early_stopping=None,
                      dense_checks=(3, 1)).fit(X, y, X[:30], y[:30], epochs=2)
    course = list(range(0, 41, 4))
    dense = list(range(0, 20, 3))
    assert list(history.val_loss) == list(history.val_accuracy) == sorted(set(course) | set(dense))
    # A dense check scores the validation set alone.
    assert list(history.train_loss) == list(history.train_accuracy) == course
    assert history.course_steps.tolist() == course


def test_dense_checks_leave_early_stopping_where_it_was(blobs):
    X_train, y_train, X_val, y_val = blobs
    wrong = (y_val + 1) % 4
    histories, weights = [], []
    for dense in (None, (1, 3)):
        model = MLP([16, 4], input_size=9, init="fan_in")
        histories.append(Trainer(model, batch_size=16, early_stopping=4, dense_checks=dense)
                         .fit(X_train, y_train, X_val, wrong, epochs=50))
        weights.append(model.weights)
    course, dense = histories
    assert dense.stop_reason == course.stop_reason == StopReason.EARLY_STOPPING
    assert (dense.steps, dense.best_step) == (course.steps, course.best_step)
    # A dense check finds a lower validation loss than the course's: it is not counted.
    assert min(dense.val_loss.values()) < dense.best_val_loss
    assert {step: dense.val_loss[step] for step in course.val_loss} == course.val_loss
    for W_dense, W_course in zip(*weights, strict=True):
        np.testing.assert_array_equal(W_dense, W_course)


def test_no_early_stopping_runs_every_epoch(blobs):
    X_train, y_train, X_val, y_val = blobs
    history = Trainer(MLP([16, 4], input_size=9), batch_size=16, early_stopping=None).fit(
        X_train, y_train, X_val, (y_val + 1) % 4, epochs=3
    )
    assert history.stop_reason == StopReason.EPOCHS
    assert history.steps == 3 * 25


def test_divergence_stops_with_the_step():
    X, y = small_problem()
    model = MLP([16, 16, 16, 4], input_size=9, activation="relu")
    with pytest.raises(TrainingDivergedError,
                       match=r"diverged at step 1 \(epoch 1\): the pre-activations") as error:
        Trainer(model, learning_rate=1e100, batch_size=8).fit(X, y, X, y, epochs=5)
    assert error.value.step == 1
    assert isinstance(error.value.history, History)
    assert error.value.history.stop_reason == StopReason.DIVERGED


def test_accepts_one_hot_targets_like_labels():
    X, y = small_problem()
    histories = [
        Trainer(MLP([8, 4], input_size=9), batch_size=8).fit(X, targets, X, targets, epochs=1)
        for targets in (y, one_hot(y, 4))
    ]
    assert histories[0] == histories[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": 0}, r"learning_rate must be a real number in \(0, inf\), got 0"),
        ({"learning_rate": float("inf")}, r"learning_rate must be a real number in \(0, inf"),
        ({"learning_rate": "0.1"}, r"learning_rate must be a real number"),
        ({"batch_size": 0}, r"batch_size must be a positive integer, got 0"),
        ({"batch_size": 3.0}, r"batch_size must be a positive integer, got 3.0"),
        ({"momentum": 1.0}, r"momentum must be a real number in \[0, 1\), got 1.0"),
        ({"momentum": -0.1}, r"momentum must be a real number in \[0, 1\)"),
        ({"early_stopping": 0}, r"early_stopping must be a positive integer or None"),
        ({"seed": -1}, r"seed must be a whole number >= 0, got -1"),
        ({"threads": 2}, r"threads must be a ThreadPolicy, got int"),
        ({"train_check_size": 0}, r"train_check_size must be a positive integer or None"),
        ({"dense_checks": 25}, r"dense_checks must be \(every, epochs\), two positive"),
        ({"dense_checks": (25, 0)}, r"dense_checks' epochs must be a positive integer, got 0"),
    ],
)
def test_bad_trainer_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Trainer(MLP([4, 3], input_size=5), **kwargs)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(X_train=d["X_train"][:, :5]), r"X_train has 5 columns but 9"),
        (lambda d: d.update(X_val=d["X_val"][:0]), r"X_val is empty"),
        (lambda d: d["X_train"].__setitem__((3, 2), np.nan), r"X_train holds non-finite.*row 3"),
        (lambda d: d.update(Y_val=d["Y_val"] + 4), r"label \d+ at position 0 lies outside"),
        (lambda d: d.update(Y_train=d["Y_train"][:10]), r"targets have 10 rows but the inputs"),
        (lambda d: d.update(X_train=d["X_train"][:7], Y_train=d["Y_train"][:7]),
         r"batch_size 8 exceeds the 7 training samples"),
        (lambda d: d.update(epochs=0), r"epochs must be a positive integer, got 0"),
    ],
)
def test_bad_data(change, message):
    X, y = small_problem()
    data = {"X_train": X.copy(), "Y_train": y, "X_val": X.copy(), "Y_val": y, "epochs": 1}
    change(data)
    with pytest.raises(ValueError, match=message):
        Trainer(MLP([4, 4], input_size=9), batch_size=8).fit(**data)


def test_trainer_needs_an_mlp():
    with pytest.raises(ValueError, match=r"model must be a backprop.MLP, got list"):
        Trainer([np.zeros((3, 3))])


def test_callbacks_see_every_step_and_check():
    X, y = small_problem(rows=100)
    steps, checks = [], []
    model = MLP([8, 4], input_size=9)
    history = Trainer(model, batch_size=10, early_stopping=None).fit(
        X, y, X[:30], y[:30], epochs=2,
        on_step=lambda step, loss: steps.append((step, loss)),
        on_check=lambda step, h: checks.append((step, h.val_loss[step])),
    )
    assert steps == list(history.batch_loss.items())
    assert checks == list(history.val_loss.items())


def test_the_thread_policy_changes_no_result():
    X, y = small_problem()
    policies = [ThreadPolicy(), ThreadPolicy(2, 2), ThreadPolicy(1, 1)]
    runs = [Trainer(MLP([8, 4], input_size=9), batch_size=8, threads=policy).fit(
        X, y, X, y, epochs=1) for policy in policies]
    assert runs[0] == runs[1] == runs[2]


def test_a_thread_policy_needs_positive_counts():
    with pytest.raises(ValueError, match=r"step_threads must be a positive integer or None"):
        ThreadPolicy(step_threads=0)


def test_checks_measure_the_whole_sets(blobs):
    X_train, y_train, X_val, y_val = blobs
    model = MLP([16, 4], input_size=9)
    history = Trainer(model, batch_size=16, early_stopping=None).fit(
        X_train, y_train, X_val, y_val, epochs=1)
    final = history.steps
    assert history.val_loss[final] == pytest.approx(model.loss(X_val, y_val), rel=1e-12)
    assert history.train_loss[final] == pytest.approx(model.loss(X_train, y_train),
                                                          rel=1e-12)
    assert history.val_accuracy[final] == np.mean(model.predict(X_val) == y_val)


def test_step_is_one_sgd_step_that_keeps_its_velocity():
    X, y = small_problem()
    model, reference = MLP([8, 4], input_size=9), MLP([8, 4], input_size=9)
    trainer = Trainer(model, learning_rate=0.05, momentum=0.9)
    velocities = [np.zeros_like(W) for W in reference.weights]
    for batch in (slice(0, 8), slice(8, 16)):
        loss = trainer.step(X[batch], y[batch])
        assert loss == sgd_step(reference.weights, velocities, X[batch], one_hot(y[batch], 4),
                                reference.activation, 0.05, 0.9)
    for w, v in zip(model.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(w, v)
    with pytest.raises(ValueError, match=r"X_batch has 3 columns but 9 are expected"):
        trainer.step(X[:8, :3], y[:8])


def with_entry(X, row, column, value):
    X = X.copy()
    X[row, column] = value
    return X


BAD_BATCHES = {
    "NaN input": (lambda X, y: (with_entry(X, 1, 3, np.nan), y), ValueError,
                  r"X_batch holds non-finite values \(NaN or infinity\), the first at row 1, "
                  r"column 3: nan"),
    "infinite input": (lambda X, y: (with_entry(X, 2, 0, -np.inf), y), ValueError,
                       r"X_batch holds non-finite .* row 2, column 0: -inf"),
    "label too large": (lambda X, y: (X, np.r_[y[:-1], 4]), ValueError,
                        r"label 4 at position 7 lies outside \[0, 4\)"),
    "negative label": (lambda X, y: (X, np.r_[-1, y[1:]]), ValueError,
                       r"label -1 at position 0 lies outside \[0, 4\)"),
    "a label that wraps around to -1": (
        lambda X, y: (X, np.append(y[:-1].astype(np.uint64), np.uint64(2**64 - 1))), ValueError,
        r"label 18446744073709551615 at position 7 lies outside \[0, 4\)"),
    "two ones in a row": (lambda X, y: (X, np.r_[[[1.0, 1, 0, 0]], one_hot(y[1:], 4)]),
                          ValueError, r"targets must be one-hot .* row 0 is \[1.0, 1.0, 0.0"),
    "soft targets": (lambda X, y: (X, np.r_[[[0.5, 0.5, 0, 0]], one_hot(y[1:], 4)]),
                     ValueError, r"targets must be one-hot .* row 0 is \[0.5, 0.5"),
    "too few targets": (lambda X, y: (X, y[:-1]), ValueError,
                        r"targets have 7 rows but the inputs have 8"),
    "a single sample as 1-D": (lambda X, y: (X[0], y[:1]), ValueError,
                               r"X_batch must be a 2-D array"),
    "too many columns": (lambda X, y: (np.c_[X, X[:, :1]], y), ValueError,
                         r"X_batch has 10 columns but 9 are expected"),
    "overflowing input": (lambda X, y: (with_entry(X, 0, 0, 1e308), y), FloatingPointError,
                          r"layer 1 overflow float64 on X_batch"),
}


@pytest.mark.parametrize("bad", BAD_BATCHES.values(), ids=BAD_BATCHES.keys())
def test_a_step_refuses_a_bad_batch_by_name_and_changes_nothing(bad):
    spoil, error, message = bad
    X, y = small_problem()
    model = MLP([8, 4], input_size=9)
    model.weights = [W * 1e10 for W in model.weights]
    before = [W.copy() for W in model.weights]
    with pytest.raises(error, match=message):
        Trainer(model).step(*spoil(X[:8], y[:8]))
    for now, then in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(now, then)


def test_a_step_takes_what_converts_to_its_batch():
    X, y = small_problem()
    steps = [Trainer(MLP([8, 4], input_size=9)).step(X8, y8) for X8, y8 in (
        (X[:8], y[:8]), (X[:8].tolist(), y[:8].tolist()), (X[:8], one_hot(y[:8], 4)),
        (X[:8], y[:8].astype(np.uint8)))]
    assert len(set(steps)) == 1


def test_float32_training_follows_float64(blobs):
    """float32 rounds each operation to a relative 6e-8; over these 125 steps the validation
    loss may drift from float64's by far less than 1e-4 (measured: about 1e-6), and no
    prediction changes."""
    X_train, y_train, X_val, y_val = blobs
    histories = [
        Trainer(MLP([16, 4], input_size=9, dtype=dtype), batch_size=16, momentum=0.9,
                learning_rate=0.02).fit(X_train, y_train, X_val, y_val, epochs=5)
        for dtype in (np.float64, np.float32)
    ]
    double, single = histories
    for step, loss in double.val_loss.items():
        assert single.val_loss[step] == pytest.approx(loss, rel=1e-4)
        assert single.val_accuracy[step] == double.val_accuracy[step]


def test_inputs_that_overflow_a_layer_are_an_error_at_the_first_check():
    model = MLP([3, 2], input_size=3)
    model.weights = [np.ones((3, 3)), np.ones((3, 2))]
    X = np.full((4, 3), 1e308)
    with pytest.raises(FloatingPointError, match=r"layer 1 overflow float64 on X_train"):
        Trainer(model, batch_size=2).fit(X, [0, 1, 0, 1], X[:2], [0, 1], epochs=1)


def test_weights_that_grow_to_overflow_a_saturated_layer_stop_training():
    X, labels = small_problem()
    model = MLP([5, 4], input_size=9)

    def blow_up(step, history):
        if step == 0:
            model.weights = [model.weights[0] * 1e308, model.weights[1]]

    with pytest.raises(TrainingDivergedError, match=r"layer 1 overflow.*weights have grown"):
        Trainer(model, batch_size=8).fit(X, labels, X, labels, epochs=1, on_check=blow_up)


def test_a_single_step_refuses_a_batch_that_overflows():
    model = MLP([3, 2], input_size=3)
    model.weights = [np.ones((3, 3)), np.ones((3, 2))]
    with pytest.raises(FloatingPointError, match="layer 1 overflow float64 on X_batch"):
        Trainer(model).step(np.full((2, 3), 1e308), [0, 1])


def test_a_step_names_a_masked_batch():
    X, y = small_problem()
    with pytest.raises(ValueError, match="X_batch is or holds a masked array"):
        Trainer(MLP([8, 4], input_size=9)).step(np.ma.masked_greater(X[:8], 1), y[:8])


def test_a_step_still_warns_of_an_update_that_overflows():
    X, y = small_problem()
    trainer = Trainer(MLP([8, 4], input_size=9, dtype=np.float32), learning_rate=1e300)
    with pytest.warns(RuntimeWarning, match="overflow"):
        trainer.step(X[:8].astype(np.float32), y[:8])


def test_a_trainer_keeps_the_model_its_buffers_are_shaped_for():
    trainer = Trainer(MLP([8, 4], input_size=9))
    with pytest.raises(AttributeError):
        trainer.model = MLP([3, 4], input_size=9)
