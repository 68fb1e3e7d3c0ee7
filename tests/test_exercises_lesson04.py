"""The self-checks of notebook 04: the reference solutions pass, each usual mistake gets its own hint (4.1's
prediction earns its point held or not, and is told why), and an unsolved stub's NotImplementedError reaches the
student. Exercise 4.2's check trains (a 10-unit network on a few hundred made-up vectors, a few times per answer)."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson04 as check


def seed_scores(build, seeds, x, y, x_val, y_val, epochs=1):
    scores = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = build()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=epochs, verbose=0)
        scores.append(model.evaluate(x_val, y_val, verbose=0)[1])
    return scores


def early_stop(val_losses, patience):
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def network(*layers, shape=(784,), compile_it=True, loss="sparse_categorical_crossentropy", optimizer="adam"):
    """A builder like the student's ``build_256_128``, returning the model of these layers."""

    def build():
        model = keras.Sequential([keras.Input(shape=shape), *layers] if shape else list(layers))
        if compile_it:
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        return model

    return build


def dense(units, activation="relu", **kwargs):
    return keras.layers.Dense(units, activation=activation, **kwargs)


def reference():
    """Fresh layers of the right network (a Keras layer belongs to one model)."""
    return dense(256), dense(128), dense(10, "softmax")


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 4.x: write your code here")


def test_the_reference_solutions_pass():
    build_256_128 = network(*reference())
    predictions = lambda: (79_510, 159_010, (5, 10), (5,))  # noqa: E731
    held = check.predict_then_run(predictions)
    assert held.ok and held.exercise == "4.1" and held.raise_if_wrong() is held, held
    assert held.message.startswith("prediction recorded; your prediction held. All four: Keras counts 79,510")
    assert "not quite twice" in held.message and "did not hold" not in held.message
    for result, ex, phrase in [
        (check.seed_scores(seed_scores), "4.2", "the same with the seeds in either order"),
        (check.build_256_128(build_256_128), "4.3", "235,146 parameters, 58 %"),
        (check.early_stop(early_stop), "4.4", "rolls the weights back to the best epoch"),
    ]:
        assert result.ok and result.exercise == ex and result.message.startswith("correct. "), result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert phrase in result.message, result


def test_other_right_answers_pass_too():
    other_types = check.predict_then_run(lambda: [79510.0, np.int64(159_010), [5, 10], 5])
    assert other_types.ok and "your prediction held" in other_types.message
    separate_activations = network(
        dense(256, None),
        keras.layers.ReLU(),
        keras.layers.Dropout(0.2),
        dense(128),
        dense(10, None),
        keras.layers.Activation("softmax"),
    )
    assert check.build_256_128(separate_activations).ok

    def functional():
        inputs = keras.Input(shape=(784,))
        x = dense(128)(dense(256)(inputs))
        model = keras.Model(inputs, dense(10, "softmax")(x))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    assert check.build_256_128(functional).ok

    def with_numpy(val_losses, patience):  # the same rule, written another way: where the waiting runs out
        losses = np.asarray(val_losses)
        best_so_far = np.minimum.accumulate(losses)
        improved = np.r_[True, losses[1:] < best_so_far[:-1]]
        last_best = np.maximum.accumulate(np.where(improved, np.arange(len(losses)), 0))
        waited = np.arange(len(losses)) - last_best
        stops = np.flatnonzero(waited >= patience)
        trained = int(stops[0]) + 1 if len(stops) else len(losses)
        return [np.int64(trained), float(last_best[trained - 1] + 1)]

    assert check.early_stop(with_numpy).ok

    def another_way(build, seeds, x, y, x_val, y_val, epochs=1):  # a comprehension, evaluate as a dict
        def one(seed):
            keras.utils.set_random_seed(seed)
            model = build()
            model.compile(
                optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
            return model.evaluate(x_val, y_val, verbose=0, return_dict=True)["accuracy"]

        return np.array([one(seed) for seed in seeds])

    assert check.seed_scores(another_way).ok


@pytest.mark.parametrize(
    "answer, phrases",
    [
        ((79_400, 159_010, (5, 10), (5,)), ["params_100: you predicted 79,400; Keras counts 79,510: the biases are"]),
        ((79_510 - 100 - 10 + 784 + 100, 159_010, (5, 10), (5,)), ["not one per input"]),
        ((79_510 + 784, 159_010, (5, 10), (5,)), ["the input is not a layer"]),
        ((78_500, 159_010, (5, 10), (5,)), ["that is the first layer only"]),
        ((79_510, 159_020, (5, 10), (5,)), ["not 2 × 79,510", "the output layer keeps its 10 biases"]),
        ((79_510, 160_000, (5, 10), (5,)), ["params_200: you predicted 160,000; Keras counts 159,010"]),
        ((79_510, 159_010, (10,), (5,)), ["predict_shape: you predicted (10,); it returned (5, 10)", "batch axis"]),
        ((79_510, 159_010, (5,), (5,)), ["that is the shape after argmax"]),
        ((79_510, 159_010, (5, 784), (5,)), ["one row per image, one column per digit"]),
        (
            (79_510, 159_010, (5, 10), (5, 1)),
            ["argmax_shape: you predicted (5, 1); it returned (5,)", "one number per"],
        ),
        (
            (79_400, 159_020, (5, 10), (5, 1)),
            ["Did not hold: params_100, params_200, argmax_shape (held: predict_shape).", "the biases are missing"],
        ),
    ],
)
def test_predict_then_run_wrong_prediction_earns_the_point_and_is_told_why(answer, phrases):
    result = check.predict_then_run(lambda: answer)
    assert result.ok and result.message.startswith("prediction recorded; your prediction did not hold. Did not hold:")
    assert "Keras counts 79,510 and 159,010 parameters" in result.message  # the true result, whatever was predicted
    for phrase in phrases:
        assert phrase in result.message, result.message
    assert "(You changed your prediction" not in result.message
    assert result.raise_if_wrong() is result


def test_predict_then_run_checks_the_first_prediction_not_one_made_after_seeing_the_result():
    first = check.predict_then_run(lambda: (79_400, 159_010, (5, 10), (5,)))
    assert "Did not hold: params_100 (held: params_200, predict_shape, argmax_shape)." in first.message
    again = check.predict_then_run(lambda: (79_510, 159_010, (5, 10), (5,)))
    assert again.ok and "your prediction did not hold. Did not hold: params_100" in again.message, again.message
    assert "(You changed your prediction after this check first ran" in again.message
    same = check.predict_then_run(lambda: [79_400.0, 159_010, [5, 10], (5,)])  # the same prediction, other types
    assert "did not hold" in same.message and "You changed" not in same.message


def test_predict_then_run_malformed_answer_commits_nothing():
    assert not check.predict_then_run(lambda: (79_400, "159010", (5, 10), (5,))).ok
    assert "your prediction held" in check.predict_then_run(lambda: (79_510, 159_010, (5, 10), (5,))).message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((None, 159_010, (5, 10), (5,)), "write your prediction for 100 hidden units"),
        ((79_510, None, (5, 10), (5,)), "write your prediction for 200 hidden units into params_200"),
        (("79510", 159_010, (5, 10), (5,)), "params_100 should be one whole number"),
        ((79_510, True, (5, 10), (5,)), "params_200 should be one whole number"),
        ((79_510, 159_010, None, (5,)), "predict_shape should be a tuple"),
        ((79_510, 159_010, (5, 10), "5"), "argmax_shape should be a tuple"),
        (None, "should return the four values"),
        (79_510, "should return the four values"),
        ((79_510, 159_010), "should return the four values"),
    ],
)
def test_predict_then_run_malformed_answers_get_their_hint(answer, phrase):
    result = check.predict_then_run(lambda: answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def the_given_code(build, seeds, x, y, x_val, y_val, epochs=1):  # the notebook's seed_scores, unchanged
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    scores = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model.fit(x, y, epochs=epochs, verbose=0)
        scores.append(model.evaluate(x_val, y_val, verbose=0)[1])
    return scores


def variant(
    seeding="keras", build_first=False, extra_build=False, epochs=None, returns="accuracy", compile_with="adam"
):
    """seed_scores with one mistake: the seed set after building or only for NumPy, one model too many, a fixed
    number of epochs, another optimizer, or another return value (the loss, both, percent, training accuracy)."""

    def seed_scores_variant(build, seeds, x, y, x_val, y_val, epochs_given=1, **kwargs):
        epochs_given = kwargs.get("epochs", epochs_given)
        scores = []
        for seed in seeds:
            if build_first:
                model = build()
            {"keras": keras.utils.set_random_seed, "numpy": np.random.seed}[seeding](seed)
            if not build_first:
                model = build()
            if extra_build:
                build()
            model.compile(optimizer=compile_with, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(x, y, epochs=epochs or epochs_given, verbose=0)
            if returns == "train":
                result = model.evaluate(x, y, verbose=0)[1]
            else:
                result = model.evaluate(x_val, y_val, verbose=0)
                result = {"accuracy": result[1], "both": result, "loss": result[0], "percent": 100 * result[1]}[returns]
            scores.append(result)
        return scores

    return seed_scores_variant


def all_built_first(build, seeds, x, y, x_val, y_val, epochs=1):
    """Each model built right after its seed, but all of them before any trains: fit's batch order then comes from
    the last seed set, not each model's own."""
    models = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        models.append(build())
    scores = []
    for model in models:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=epochs, verbose=0)
        scores.append(model.evaluate(x_val, y_val, verbose=0)[1])
    return scores


def one_model_reset(build, seeds, x, y, x_val, y_val, epochs=1):
    """One model, its first weights put back before each seed: the starting weights never depend on the seed."""
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = model.get_weights()
    scores = []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model.set_weights(start)
        model.fit(x, y, epochs=epochs, verbose=0)
        scores.append(model.evaluate(x_val, y_val, verbose=0)[1])
    return scores


def builds_then(value):
    """A seed_scores that seeds and builds a model per seed, as it should, then returns ``value``."""

    def seed_scores_returning(build, seeds, x, y, x_val, y_val, epochs=1):
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            build()
        return value

    return seed_scores_returning


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_given_code, "build() ran once for 2 seeds: one model serves several seeds"),
        (variant(build_first=True), "the model for seed 3 did not start from the weights that seed gives"),
        (variant(seeding="numpy"), "np.random.seed alone seeded NumPy but not Keras"),
        (variant(extra_build=True), "build() ran 4 times for 2 seeds: build one model per seed"),
        (variant(epochs=1), "keep compile and fit as they were"),
        (variant(compile_with="sgd"), "keep compile and fit as they were"),
        (variant(returns="both"), "model.evaluate returns [loss, accuracy]"),
        (variant(returns="train"), "that is the accuracy on the training data"),
        (variant(returns="loss"), "a new model trained with that seed scores"),
        (variant(returns="percent"), "a fraction (0."),
        (all_built_first, "the seed also decides the order of fit's batches"),
        (one_model_reset, "its starting weights do not come from each seed"),
        (lambda build, seeds, x, y, x_val, y_val, epochs=1: None, "did you forget `return`"),
        (builds_then(0.5), "return a list of scores, one per seed"),
        (builds_then([0.5]), "return one score per seed: 2 seeds, 1 score."),
        (lambda build, seeds, x, y, x_val, y_val: [], "keep the signature seed_scores(build, seeds, x, y, x_val"),
        (lambda build, seeds, x, y, x_val, y_val, epochs=1: [0.5] * 3, "your function never calls build()"),
        ("seed_scores", "pass the function itself"),
    ],
)
def test_seed_scores_hints(answer, phrase):
    result = check.seed_scores(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def test_seed_scores_in_one_order_only_is_not_enough():
    # Scores right for the seeds in the given order but remembered from an earlier call: the check's second run,
    # with the seeds reversed, finds a seed whose score depends on what ran before it.
    calls = []

    def remembers(build, seeds, x, y, x_val, y_val, epochs=1):
        calls.append(list(seeds))
        scores = seed_scores(build, seeds, x, y, x_val, y_val, epochs)
        return scores if len(calls) == 1 else [s + 0.1 for s in scores]

    result = check.seed_scores(remembers)
    assert calls == [[3, 7], [7, 3]]
    assert not result.ok and "keep compile and fit as they were" in result.message, result.message


@pytest.mark.parametrize(
    "make_check",
    [
        lambda: check.predict_then_run(stub),
        lambda: check.seed_scores(stub),
        lambda: check.build_256_128(stub),
        lambda: check.early_stop(stub),
    ],
)
def test_a_stub_reaches_the_student_as_not_implemented(make_check):
    with pytest.raises(NotImplementedError, match="write your code here"):
        make_check()


@pytest.mark.parametrize(
    "build, phrase",
    [
        (network(dense(256), dense(128), dense(10, None)), "the softmax is missing"),
        (network(dense(256), dense(128), dense(10, "sigmoid")), "need not sum to 1"),
        (network(dense(256), dense(128), dense(10, "relu")), 'it needs activation="softmax"'),
        (network(dense(256), dense(10, "softmax")), "a hidden layer is missing"),
        (network(dense(128), dense(256), dense(10, "softmax")), "the hidden layers are swapped"),
        (network(dense(256), dense(128)), "the output layer is missing"),
        (network(dense(256), dense(128), dense(64), dense(10, "softmax")), "should have 256, 128 and 10 units"),
        (network(dense(256, None), dense(128), dense(10, "softmax")), "collapse into one linear map"),
        (network(dense(256, "sigmoid"), dense(128), dense(10, "softmax")), "uses sigmoid"),
        (network(*reference(), shape=(28, 28)), "this notebook feeds flattened vectors"),
        (network(*reference(), shape=(392,)), "a vector of 784 pixels"),
        (network(*reference(), shape=None, compile_it=False), "does not know its input size"),
        (network(keras.layers.Flatten(), *reference(), shape=(28, 28)), "this notebook feeds flattened vectors"),
        (network(keras.layers.BatchNormalization(), *reference()), "yours has a BatchNormalization"),
        (network(*reference(), compile_it=False), "the model is not compiled"),
        (network(*reference(), loss="categorical_crossentropy"), "expects one-hot vectors"),
        (network(*reference(), loss="mse"), 'use loss="sparse_categorical_crossentropy"'),
        (network(*reference(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)), "drop from_logits"),
        (network(*reference(), optimizer="sgd"), "the task asks for Adam"),
        (network(dense(256, use_bias=False), dense(128), dense(10, "softmax")), "use_bias=False"),
        (lambda: None, "did you forget `return`"),
        (lambda: [256, 128, 10], "not a list"),
    ],
)
def test_build_256_128_hints(build, phrase):
    result = check.build_256_128(build)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def test_build_256_128_does_not_train_the_model():
    model = network(*reference())()
    before = [w.copy() for w in model.get_weights()]
    assert check.build_256_128(lambda: model).ok
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations.numpy() == 0


def _changes_the_list(val_losses, patience):
    val_losses.sort()
    return early_stop(val_losses, patience)


def _restores_the_last(val_losses, patience):
    trained, _ = early_stop(val_losses, patience)
    return trained, trained


def _stops_one_early(val_losses, patience):
    return early_stop(val_losses, patience - 1) if patience > 1 else early_stop(val_losses, patience)


def _ties_improve(val_losses, patience):
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss <= best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def _never_resets(val_losses, patience):
    best, best_epoch, wait = float("inf"), 0, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best:
            best, best_epoch = loss, epoch  # the count of epochs without improvement is not set back to 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(val_losses), best_epoch


def _restores_only_when_stopped(val_losses, patience):  # Keras 2's habit: the last weights when it ran through
    trained, best = early_stop(val_losses, patience)
    return (trained, best) if trained < len(val_losses) else (trained, trained)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda v, p: tuple(n - 1 for n in early_stop(v, p)), "counted from 1"),
        (_never_resets, "starts again at 0 at every improvement"),
        (_restores_only_when_stopped, "also when the callback never stopped it"),
        (_stops_one_early, "not one epoch earlier"),
        (_restores_the_last, "the weights of the best epoch, not of the last one trained"),
        (_ties_improve, "an equal loss is no improvement"),
        (lambda v, p: (len(v), int(np.argmin(v)) + 1), "Keras trains 6 epochs and restores epoch 3"),
        (lambda v, p: None, "did you forget `return`"),
        (lambda v, p: 6, "return two whole numbers"),
        (lambda v, p: (6.5, 3), "return two whole numbers"),
        (_changes_the_list, "changes the list of losses"),
    ],
)
def test_early_stop_hints(answer, phrase):
    result = check.early_stop(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize(
    "losses, patience, expected",
    [
        ([0.5, 0.4, 0.35, 0.36, 0.37, 0.38, 0.30], 3, (6, 3)),  # three epochs without improvement: stops at the 6th
        ([0.5, 0.4, 0.35, 0.36, 0.37, 0.38, 0.30], 4, (7, 7)),  # one more epoch of patience reaches 0.30
        ([0.5, 0.4, 0.4, 0.41], 2, (4, 2)),  # 0.4 again is no improvement
        ([0.5, 0.4, 0.3], 2, (3, 3)),  # never stops
        ([0.3, 0.31, 0.29, 0.32, 0.33], 1, (2, 1)),  # patience 1: the first epoch without improvement stops it
        ([0.5, 0.52, 0.45, 0.46, 0.47, 0.4], 2, (5, 3)),  # the count starts again after epoch 3's improvement
        ([0.5, 0.4, 0.45], 2, (3, 2)),  # never stopped, and still the best epoch's weights come back
    ],
)
def test_keras_early_stop_reports_what_keras_does_worked_out_by_hand(losses, patience, expected):
    assert check.keras_early_stop(losses, patience) == expected


def test_a_function_call_instead_of_the_function_is_refused():
    with pytest.raises(TypeError, match="without brackets"):
        check.build_256_128(None)
    with pytest.raises(TypeError, match="without brackets"):
        check.early_stop(3)


# Exercise 4.5 --------------------------------------------------------------------------------------------------------


def _scores(asked: list):
    """A stand-in for the lesson's train_and_score: gaps of 8.0, 9.0 and 10.0 points for seeds 1, 2 and 3."""

    def train_and_score(n, seed):
        asked.append((n, seed))
        return 99.0, 91.0 - (seed - 1)

    return train_and_score


def test_predicted_gap_a_close_prediction_held_and_is_measured_at_2000_images():
    asked = []
    result = check.predicted_gap(lambda: 8.5, _scores(asked), [1, 2, 3])
    assert asked == [(2000, 1), (2000, 2), (2000, 3)]
    assert result.ok and result.exercise == "4.5" and result.raise_if_wrong() is result
    assert result.message.startswith("prediction recorded; your prediction held. Trained on 2,000 images")
    assert (
        "gap is 9.0 points, the mean of 3 seeds (8.0, 9.0, 10.0); you predicted 8.5, within 2 points" in result.message
    )
    assert "Training accuracy is 99.00 % and validation accuracy 90.00 %." in result.message
    assert "lesson's table" not in result.message  # no table given: nothing said about it


@pytest.mark.parametrize(
    "table, said",
    [
        ({1000: 12.0, 4000: 6.0}, "gap of 12.0 points at 1,000 images and 6.0 at 4,000: at 2,000 it lies between"),
        ({1000: 12.0, 4000: 10.0}, "gap of 12.0 points at 1,000 images and 10.0 at 4,000: at 2,000 it lies outside"),
        ({250: 15.0, 1000: 12.0}, "a gap of 12.0 points at 1,000 images: at 2,000 it is smaller."),
        ({250: 15.0, 1000: 7.0}, "a gap of 7.0 points at 1,000 images: at 2,000 it is larger."),
    ],
)
def test_predicted_gap_places_the_result_among_the_lesson_sizes_as_measured(table, said):
    """The lesson's table (its sizes, each with two seeds) says where the measured 9.0 points lie, never assumed."""
    scores = {(n, seed): (99.0, 99.0 - gap + d) for n, gap in table.items() for seed, d in ((1, 0.5), (2, -0.5))}
    result = check.predicted_gap(lambda: 9.0, _scores([]), [1, 2, 3], scores)
    assert said in result.message, result.message


@pytest.mark.parametrize(
    "guess, phrase", [(15, "The gap is smaller than that."), (3.0, "The gap is larger than that.")]
)
def test_predicted_gap_a_far_prediction_earns_the_point_and_says_which_way_it_missed(guess, phrase):
    result = check.predicted_gap(lambda: guess, _scores([]), [1, 2, 3])
    assert result.ok and "your prediction did not hold." in result.message and phrase in result.message
    assert f"you predicted {guess:g}, more than 2 points of it" in result.message


def test_predicted_gap_the_first_prediction_checked_counts():
    check.predicted_gap(lambda: 15, _scores([]), [1, 2, 3])
    again = check.predicted_gap(lambda: 9.0, _scores([]), [1, 2, 3])
    assert "did not hold" in again.message and "you predicted 15," in again.message
    assert "is the one checked" in again.message


@pytest.mark.parametrize("answer", [None, "9", True, -1, 150, float("nan"), (9, 10)])
def test_predicted_gap_an_answer_that_is_no_prediction_gets_its_hint_and_trains_nothing(answer):
    asked = []
    result = check.predicted_gap(lambda: answer, _scores(asked), [1, 2, 3])
    assert not result.ok and asked == []
    assert ("forget `return`" if answer is None else "return one number of points between 0 and 100") in result.message
    with pytest.raises(ExerciseNotSolved):
        result.raise_if_wrong()
    assert check.predicted_gap(lambda: 9.0, _scores([]), [1, 2]).message.count("did not hold") == 0  # not committed


def test_predicted_gap_lets_the_stub_error_through():
    def stub():
        raise NotImplementedError("Exercise 4.5: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 4.5"):
        check.predicted_gap(stub, _scores([]), [1, 2, 3])
