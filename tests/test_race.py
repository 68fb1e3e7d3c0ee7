"""The optimizer race of notebook 07 (race, race_results, race_plots, widgets.race_viewer): fair start, determinism,
JSON round trip, the table, the plots and the viewer widget."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_course.data import flatten, scale, subset
from mnist_course.lessons.optimizers_and_losses.plots import RUN_COLORS, compare_live, plot_paths, plot_race, run_color
from mnist_course.lessons.optimizers_and_losses.race import (
    RUN_NAMES,
    RaceData,
    RaceRun,
    RunSpec,
    by_name,
    initial_weights,
    max_difference,
    race,
    race_seeds,
    same_weights,
    train_race_run,
    weights_fingerprint,
)
from mnist_course.lessons.optimizers_and_losses.results import (
    compare,
    final_accuracy,
    format_final,
    load_results,
    rerun_check,
    results_table,
    save_results,
    seeds_in,
    write_shipped,
)
from mnist_course.shipped import ShippedResultsError
from mnist_course.widgets.race_viewer import RaceViewer

SEED = 7


def tiny_model():
    import keras

    return keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )


@pytest.fixture(scope="module")
def data(real_arrays) -> RaceData:
    x, y = subset(real_arrays["x_train"], real_arrays["y_train"], 600, seed=0)
    return RaceData(flatten(scale(x[:400])), y[:400], flatten(scale(x[400:])), y[400:])


@pytest.fixture(scope="module")
def raced(data) -> list[RaceRun]:
    """Three quite different entrants, two epochs each, from one shared start."""
    specs = [
        RunSpec("sgd", "sgd", 0.05, batch_size=32),
        RunSpec("adam", batch_size=32),
        RunSpec("adam-mse", loss="mse", batch_size=32),
    ]
    return race(specs, tiny_model, data, epochs=2, seed=SEED, echo=None)


def fake(name: str, accuracies: list[float | None], seconds: list[float], seed: int = 1, n_val: int = 100) -> RaceRun:
    n = len(accuracies)
    history = {
        "epoch": list(range(n)),
        "seconds": seconds,
        "loss": [2.3 / (e + 1) for e in range(n)],
        "val_accuracy": accuracies,
        "val_crossentropy": [2.3 / (e + 1) for e in range(n)],
    }
    setup = {"epochs": n - 1, "seed": seed, "n_train": 400, "n_val": n_val}
    return RaceRun(RunSpec(name, "sgd", 0.01, options={"momentum": 0.9}), setup, history)


def test_initial_weights_depend_only_on_the_seed():
    a, b, other = initial_weights(tiny_model, 3), initial_weights(tiny_model, 3), initial_weights(tiny_model, 4)
    assert same_weights(a, b) and weights_fingerprint(a) == weights_fingerprint(b)
    assert not same_weights(a, other) and weights_fingerprint(a) != weights_fingerprint(other)


def test_every_run_starts_from_the_identical_weights(raced, data):
    start = initial_weights(tiny_model, SEED)
    assert {r.setup["initial_weights"] for r in raced} == {weights_fingerprint(start)}
    # the same weights give the same predictions: epoch 0 is identical for every entrant ...
    assert len({(r.history["val_accuracy"][0], r.history["val_crossentropy"][0]) for r in raced}) == 1
    # ... and the training then takes them apart
    assert len({r.final("val_crossentropy") for r in raced}) == 3


def test_a_run_restores_the_shared_weights_whatever_the_model_fn_draws(data):
    start = initial_weights(tiny_model, SEED)
    one = train_race_run(RunSpec("a"), tiny_model, data, start, epochs=0, seed=SEED)
    two = train_race_run(RunSpec("a"), tiny_model, data, start, epochs=0, seed=SEED + 1)  # other seed, same start
    assert one.history["val_crossentropy"] == two.history["val_crossentropy"]
    assert one.history["epoch"] == [0] and one.history["seconds"] == [0.0]


def test_history_layout(raced):
    for r in raced:
        h = r.history
        assert h["epoch"] == [0, 1, 2]
        assert all(len(h[k]) == 3 for k in ("seconds", "loss", "val_accuracy", "val_crossentropy"))
        assert h["seconds"][0] == 0.0 and h["seconds"][1] > 0 and h["seconds"][2] > h["seconds"][1]
        assert r.setup == {
            "epochs": 2,
            "seed": SEED,
            "n_train": 400,
            "n_val": 200,
            "initial_weights": r.setup["initial_weights"],
        }
        assert h["val_accuracy"][-1] > 0.3  # well above chance (0.1) after 2 epochs
        assert h["loss"][-1] < h["loss"][0]


def test_same_seed_same_history_other_seed_other_history(raced, data):
    start = initial_weights(tiny_model, SEED)
    spec = RunSpec("adam", batch_size=32)
    again = train_race_run(spec, tiny_model, data, start, epochs=2, seed=SEED)
    first = by_name(raced, "adam")[0]
    for key in ("loss", "val_accuracy", "val_crossentropy"):  # stored to 1e-6; equal, not merely close
        assert again.history[key] == first.history[key], key
    shuffled_otherwise = train_race_run(spec, tiny_model, data, start, epochs=2, seed=SEED + 1)
    assert shuffled_otherwise.history["loss"][1:] != first.history["loss"][1:]


def test_sparse_labels_and_one_hot_labels_train_the_same(data):
    start = initial_weights(tiny_model, SEED)
    one_hot, sparse = (
        train_race_run(RunSpec(k, loss=k, batch_size=64), tiny_model, data, start, epochs=1, seed=SEED)
        for k in ("categorical", "sparse")
    )
    np.testing.assert_allclose(sparse.history["val_crossentropy"], one_hot.history["val_crossentropy"], atol=1e-4)
    np.testing.assert_allclose(sparse.history["loss"], one_hot.history["loss"], atol=1e-4)


def test_targets_per_loss_kind(data):
    assert data.targets("sparse").shape == (400,)
    onehot = data.targets("mse")
    assert onehot.shape == (400, 10) and np.array_equal(onehot.argmax(axis=1), data.y_train)


def test_json_round_trip(tmp_path, raced):
    results = [*raced, fake("sgd-lr1", [0.1, 0.2, None], [0.0, 1.5, 2.0])]  # a run that diverged
    path = save_results(tmp_path / "sub" / "race.json", results, settings={"epochs": 2, "n_train": 400})
    back = load_results(path)
    assert back == results
    assert back[-1].history["val_accuracy"] == [0.1, 0.2, None] and back[-1].spec.options == {"momentum": 0.9}
    text = path.read_text()
    doc = json.loads(text)
    assert doc["seeds"] == [SEED, 1] and doc["settings"] == {"epochs": 2, "n_train": 400}
    assert {"keras", "backend", "tensorflow", "numpy", "python", "cpus"} <= set(doc["machine"])
    assert text == json.dumps(doc, indent=1, sort_keys=True) + "\n"  # sorted keys: a rerun diffs line by line
    old = {"format": 1, "machine": {"tensorflow": "2.x", "cpu_count": 2}, "runs": doc["runs"]}  # the first format
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert load_results(tmp_path / "old.json") == results
    path.write_text(text.replace('"format": 2', '"format": 99'))
    with pytest.raises(ValueError, match="format 99"):
        load_results(path)


def test_a_failed_save_leaves_the_stored_results_untouched(tmp_path, monkeypatch):
    import pathlib

    path = save_results(tmp_path / "race.json", [fake("a", [0.1, 0.5], [0.0, 1.0])])
    before = path.read_bytes()
    write_text = pathlib.Path.write_text

    def half_then_fail(self, text, *args, **kwargs):  # the disk fills up half-way through the file
        write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_results(path, [fake("b", [0.1], [0.0])])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.json"]  # no temporary file left behind


def test_results_table():
    table = results_table([fake("slow", [0.1, 0.81234, 0.9], [0.0, 1.0, 2.04]), fake("boom", [0.1, None], [0, 9])])
    lines = str(table).splitlines()
    # one seed: every header says its unit, every accuracy is in percent
    assert lines[0] == (
        "| run | optimizer | learning rate | loss | batch size | final val accuracy, % (95 % interval) "
        "| best epoch's val accuracy, % | final val cross-entropy | training time, s |"
    )
    # 90 % of 100 validation images: Wilson 95 % interval 82.6-94.5 %; cross-entropy 2.3 / 3 after epoch 2
    assert (
        lines[2] == "| slow | sgd, momentum 0.9 | 0.01 | categorical | 128 | 90.00 (82.6-94.5) | 90.00 | 0.7667 | 2.0 |"
    )
    assert lines[3] == "| boom | sgd, momentum 0.9 | 0.01 | categorical | 128 | diverged | 10.00 | 1.1500 | 9.0 |"
    assert len(lines) == 4 and table._repr_markdown_() == str(table) == repr(table)
    seeds = [
        fake("a", [0.1, 0.80], [0, 1.0], seed=1),
        fake("a", [0.1, 0.84], [0, 3.0], seed=2),
        fake("a", [0.1, 0.82], [0, 2.0], seed=3),
    ]
    lines = str(results_table(seeds)).splitlines()
    assert "final val accuracy, % (mean ± sd over 3 seeds)" in lines[0] and len(lines) == 3
    assert "best epoch's val accuracy, % (mean)" in lines[0] and "training time, s (mean ± sd)" in lines[0]
    # accuracies 80, 84, 82 %: mean 82, sd 2; seconds 1, 3, 2: mean 2, sd 1
    assert (
        lines[2] == "| a | sgd, momentum 0.9 | 0.01 | categorical | 128 | 82.00 ± 2.00 | 82.00 | 1.1500 | 2.0 ± 1.0 |"
    )


def test_uncertainty_of_a_final_accuracy_and_ties():
    one = [fake("a", [0.1, 0.9], [0, 1]), fake("b", [0.1, 0.8], [0, 1]), fake("c", [0.1, 0.86], [0, 1])]
    centre, low, high = final_accuracy(one, "a")
    assert centre == 0.9 and low == pytest.approx(0.8256, abs=1e-4) and high == pytest.approx(0.9448, abs=1e-4)
    assert format_final(one, "a") == "90.00 % (82.6-94.5)"
    # 80 and 86 of 100, one seed: the intervals overlap, so the difference is not resolved (never "a tie")
    sentence = compare(one, "b", "c")
    assert "not resolved" in sentence and "tie" not in sentence
    wide = [fake(n, [0.1, acc], [0, 1], n_val=10_000) for n, acc in [("a", 0.9), ("b", 0.8)]]
    assert compare(wide, "b", "a").startswith("a (90.00 % (89.4-90.6)) ends above b")
    # three seeds: the mean, and the wider of mean ± 2 sd (here 2 sd = 4 points) and the Wilson interval
    seeds = [fake("s", [0.1, acc], [0, 1], seed=k, n_val=10_000) for k, acc in enumerate([0.80, 0.84, 0.82])]
    centre, low, high = final_accuracy(seeds, "s")
    assert (centre, low, high) == pytest.approx((0.82, 0.78, 0.86))
    assert seeds_in(seeds) == [0, 1, 2] and format_final(seeds, "s") == "82.00 ± 2.00 % over 3 seeds"
    with pytest.raises(KeyError, match="zz"):
        final_accuracy(seeds, "zz")


def test_compare_pairs_the_seeds():
    """The race is paired by seed, so compare() tests the per-seed differences (paired t, 95 %), not two separate
    intervals: a gap small next to the seed-to-seed spread is resolved when every seed shows it."""

    def runs(name: str, accuracies: list[float | None]) -> list[RaceRun]:
        return [fake(name, [0.1, acc], [0, 1], seed=seed, n_val=10_000) for seed, acc in zip((42, 43, 44), accuracies)]

    a, b = runs("a", [0.800, 0.842, 0.828]), runs("b", [0.790, 0.830, 0.820])
    # differences 1.0, 1.2, 0.8 points: mean 1.0, sd 0.2, se 0.2/√3; t(0.975, 2) = 4.3027: 1.0 ± 0.497
    sentence = compare(a + b, "a", "b")
    assert sentence == (
        "a (82.33 %) − b (81.33 %) = +1.00 points over 3 paired seeds, 95 % interval +0.50 to +1.50: a ends higher"
    )
    assert final_accuracy(a + b, "a")[1] < final_accuracy(a + b, "b")[2]  # the separate intervals overlap
    assert compare(a + b, "b", "a").endswith("-1.50 to -0.50: a ends higher")
    # differences 1.0, −1.0, 0.5 points: mean 0.17, sd 1.04, se 0.60, half-width 2.59: the interval contains 0
    c = runs("c", [0.790, 0.852, 0.823])
    assert compare(a + c, "a", "c").endswith("95 % interval -2.42 to +2.75: not resolved")
    same = runs("d", [0.800, 0.842, 0.828])
    assert compare(a + same, "a", "d").endswith("the same accuracy on each of the 3 seeds, a difference of 0")
    # a diverged seed counts as accuracy 0: 80 points below on that seed
    crashed = runs("e", [0.790, None, 0.820])
    assert compare(a + crashed, "a", "e").startswith("a (82.33 %) − e (53.67 %) = +28.67 points")


def test_plot_race_against_epochs_and_seconds():
    import matplotlib.pyplot as plt

    runs = [fake("a", [0.1, 0.5, 0.7], [0.0, 2.0, 4.0]), fake("b", [0.1, None, 0.2], [0.0, 1.0, 3.0])]
    for x, expected in (("epoch", [0, 1, 2]), ("time", [0.0, 1.0, 3.0])):
        fig = plot_race(runs, x=x)
        loss_ax, acc_ax = fig.axes
        assert [line.get_label() for line in acc_ax.lines] == ["a", "b"]
        assert list(acc_ax.lines[1].get_xdata()) == expected
        assert np.isnan(acc_ax.lines[1].get_ydata()[1])  # a diverged epoch is a gap, not a crash
        assert loss_ax.get_yscale() == "log"
        plt.close(fig)
    fig = plot_race(runs, x="time", log_x=True)
    assert fig.axes[0].get_xscale() == "log" and plot_race(runs).axes[0].get_xscale() == "linear"
    assert list(fig.axes[-1].lines[0].get_xdata()) == [2.0, 4.0]  # time 0 has no place on a log axis: left out
    assert "log scale" in fig.axes[-1].get_xlabel()
    plt.close("all")
    with pytest.raises(ValueError, match="epoch"):
        plot_race(runs, x="steps")


def _ticks_in_view(axis) -> list[float]:
    low, high = sorted(axis.get_view_interval())
    return [t for t in axis.get_ticklocs() if low - 1e-9 <= t <= high + 1e-9]


def test_every_race_figure_is_titled_labelled_and_ticked_in_whole_epochs():
    import matplotlib.pyplot as plt

    one_epoch = [fake("a", [0.1, 0.5], [0.0, 2.0]), fake("b", [0.1, 0.6], [0.0, 3.0])]  # 0..1: 0.2 steps by default
    fig = plot_race(one_epoch)
    assert fig._suptitle.get_text() == "Training loss and validation accuracy per epoch"
    for ax in fig.axes:
        ticks = _ticks_in_view(ax.xaxis)
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel()
    accuracy = fig.axes[-1]
    assert accuracy.get_ylabel() == "validation accuracy (%)"
    assert accuracy.yaxis.get_major_formatter()(0.5, 0) == "50"  # fractions stored, percent shown
    fig = plot_race(one_epoch, x="time", metrics=("val_crossentropy",), title="mine")
    assert fig._suptitle.get_text() == "mine" and fig.axes[0].get_ylabel() == "validation cross-entropy"
    assert plot_race(one_epoch, x="time")._suptitle.get_text().endswith("per second of training")
    plt.close("all")


def test_viewer_checkboxes_change_the_plotted_lines():
    runs = [fake("a", [0.1, 0.5], [0, 2]), fake("b", [0.1, 0.6], [0, 1]), fake("c", [0.1, 0.7], [0, 5])]
    viewer = RaceViewer(runs, shown=["a", "c"])

    def plotted() -> list[str]:
        return [line.get_label() for line in viewer.figure.axes[-1].lines]

    assert list(viewer.checkboxes) == ["a", "b", "c"]
    assert [box.description for box in viewer.checkboxes.values()] == ["a", "b", "c"]
    assert viewer.shown == plotted() == ["a", "c"]
    png = bytes(viewer.image.value)
    assert png.startswith(b"\x89PNG")
    viewer.checkboxes["b"].value = True
    assert viewer.shown == plotted() == ["a", "b", "c"]
    assert bytes(viewer.image.value) != png  # the picture on screen was redrawn
    viewer.checkboxes["a"].value = False
    assert plotted() == ["b", "c"]
    colors = {line.get_label(): line.get_color() for line in viewer.figure.axes[-1].lines}
    assert colors == {"b": run_color("b"), "c": run_color("c")}  # a run keeps its colour whatever else is shown
    assert RaceViewer(runs, shown=["c"]).figure.axes[-1].lines[0].get_color() == run_color("c")
    viewer.x_axis.value = "time"
    assert list(viewer.figure.axes[-1].lines[0].get_xdata()) == [0, 1]
    assert viewer.figure.axes[-1].get_xlabel() == "training time (s)"
    for box in viewer.checkboxes.values():
        box.value = False
    assert plotted() == [] and viewer.shown == []
    assert "mnist-race" in viewer.widget._dom_classes
    assert "mnist-race-checkbox" in viewer.checkboxes["a"]._dom_classes
    assert "mnist-race-plot" in viewer.image._dom_classes and "mnist-race-x" in viewer.x_axis._dom_classes


def test_bad_specs_and_names_are_refused(data):
    with pytest.raises(ValueError, match="unknown optimizer"):
        RunSpec("x", optimizer="lion")
    with pytest.raises(ValueError, match="unknown loss"):
        RunSpec("x", loss="hinge")
    with pytest.raises(ValueError, match="batch_size"):
        RunSpec("x", batch_size=0)
    with pytest.raises(ValueError, match="unique"):
        race([RunSpec("x"), RunSpec("x")], tiny_model, data, epochs=1, seed=0)
    with pytest.raises(KeyError, match="zz"):
        by_name([fake("a", [0.1], [0.0])], "zz")


def test_optimizer_options_reach_keras():
    sgd = RunSpec("m", "sgd", 0.05, options={"momentum": 0.9}).make_optimizer()
    assert sgd.momentum == pytest.approx(0.9) and float(sgd.learning_rate) == pytest.approx(0.05)
    assert type(RunSpec("w", "adamw").make_optimizer()).__name__ == "AdamW"


def test_by_name_finds_specs_and_results_in_the_order_asked():
    specs = [RunSpec("a"), RunSpec("b", "sgd", 0.1)]
    assert [s.name for s in by_name(specs, "b", "a")] == ["b", "a"]
    results = [fake("a", [0.1], [0.0]), fake("b", [0.2], [0.0])]
    assert by_name(results, "b") == [results[1]]


def test_max_difference():
    a, b = fake("a", [0.1, 0.5, 0.7], [0, 1, 2]), fake("b", [0.1, 0.45, 0.9], [0, 1, 2])
    assert max_difference(a, b) == pytest.approx(0.2) and max_difference(a, a) == 0.0
    assert max_difference(a, fake("c", [0.1, None, 0.7], [0, 1, 2])) == float("inf")
    assert max_difference(a, fake("d", [0.1, 0.5], [0, 1])) == float("inf")


def test_compare_live_dashes_the_live_run_in_the_stored_colour():
    import matplotlib.pyplot as plt

    stored = [fake("a", [0.1, 0.5], [0, 2]), fake("b", [0.1, 0.6], [0, 1])]
    fig = compare_live(stored, [fake("b", [0.1, 0.55], [0, 1.5])], x="time")
    lines = fig.axes[-1].lines
    assert [line.get_label() for line in lines] == ["b", "b (live)"]
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    assert lines[0].get_color() == lines[1].get_color()
    assert list(lines[1].get_xdata()) == [0, 1.5]
    plt.close(fig)
    fig = compare_live(stored, [fake("new", [0.1, 0.3], [0, 1])])  # nothing stored to compare with: drawn alone
    assert [line.get_label() for line in fig.axes[-1].lines] == ["new (live)"]
    plt.close(fig)


def test_every_run_of_the_race_has_its_own_colour_in_every_plot():
    races = RUN_NAMES
    assert len(races) == 16 and races[0] == "sgd" and races[-1] == "sgd-lr1"
    assert len({run_color(n) for n in races}) == len(races) and all(n in RUN_COLORS for n in races)
    assert run_color("adam (live)") == run_color("adam") and run_color("mine") == run_color("mine")
    runs = [fake(n, [0.1, 0.5], [0, 1]) for n in ("adam", "adam-sparse", "sgd")]
    for shown in (runs, runs[1:]):
        lines = {line.get_label(): line for line in plot_race(shown).axes[-1].lines}
        assert lines["adam-sparse"].get_color() == RUN_COLORS["adam-sparse"]
        assert lines["adam-sparse"].get_linestyle() == "--"  # drawn over adam, which it hides otherwise
        assert lines["sgd"].get_color() == RUN_COLORS["sgd"] and lines["sgd"].get_linestyle() == "-"


def test_race_over_seeds_gives_each_seed_its_own_start(data):
    specs = [RunSpec("adam", batch_size=64)]
    runs = race_seeds(specs, tiny_model, data, epochs=1, seeds=[3, 4], echo=None)
    assert [r.setup["seed"] for r in runs] == [3, 4] and seeds_in(runs) == [3, 4]
    assert [r.setup["initial_weights"] for r in runs] == [
        weights_fingerprint(initial_weights(tiny_model, k)) for k in (3, 4)
    ]
    assert by_name(runs, "adam", seed=4) == [runs[1]] and by_name(runs, "adam") == [runs[0]]
    with pytest.raises(ValueError, match="distinct"):
        race_seeds(specs, tiny_model, data, epochs=1, seeds=[3, 3])


def test_plot_paths_draws_one_line_per_optimizer_in_its_colour():
    import matplotlib.pyplot as plt

    from mnist_course.lessons.optimizers_and_losses.rules import Bowl

    bowl = Bowl()
    paths = {"SGD": np.array([[-4.0, 1.0], [-3.0, 0.5], [-2.0, 0.2]]), "Adam": np.array([[-4.0, 1.0], [-3.9, 0.9]])}
    fig = plot_paths(bowl.loss, paths, extent=(-5, 1, -1.5, 1.5), title="paths")
    surface, losses = fig.axes[:2]
    drawn = {line.get_label(): line for line in surface.lines if not line.get_label().startswith("_")}
    assert set(drawn) == {"SGD", "Adam"} and drawn["Adam"].get_color() == RUN_COLORS["adam"]
    np.testing.assert_allclose(losses.lines[0].get_ydata(), [8.0 + 10.0, 4.5 + 2.5, 2.0 + 0.4])
    assert fig._suptitle.get_text() == "paths" and surface.get_title() and losses.get_title()
    assert surface.get_xlabel() == "weight x" and losses.get_xlabel() == "step" and losses.get_ylabel()
    assert all(float(t).is_integer() for t in _ticks_in_view(losses.xaxis))  # steps 0, 1, 2: no 0.25 ticks
    assert plot_paths(bowl.loss, paths, extent=(-5, 1, -1.5, 1.5))._suptitle.get_text()  # titled by default
    plt.close("all")


def test_the_shipped_file_is_only_a_whole_full_race_over_three_seeds(tmp_path):
    whole = [fake(name, [0.1, 0.5], [0, 1], seed=seed) for seed in (1, 2, 3) for name in RUN_NAMES]
    full = {"profile": "full", "epochs": 1}
    for results, settings, why in [
        (whole[:-1], full, "missing"),
        (whole[: 2 * len(RUN_NAMES)], full, "seeds"),
        (whole, {"profile": "ci"}, "profile"),
    ]:
        with pytest.raises(ValueError, match=why):
            write_shipped(tmp_path / "race.json", results, runs=RUN_NAMES, settings=settings)
        assert not (tmp_path / "race.json").exists()
    path = write_shipped(tmp_path / "race.json", whole, runs=RUN_NAMES, settings=full)
    assert load_results(path) == whole and json.loads(path.read_text())["seeds"] == [1, 2, 3]
    doc = json.loads(path.read_text())  # a full-profile file that lost a run is refused on reading too
    (tmp_path / "cut.json").write_text(json.dumps({**doc, "runs": doc["runs"][:-1]}))
    with pytest.raises(ShippedResultsError, match=r"runs lacks sgd-lr1 \(seed 3\) of the full race"):
        load_results(tmp_path / "cut.json")


def test_a_rerun_is_compared_with_the_shipped_run_of_the_same_settings_only():
    shipped = [fake("a", [0.1, 0.90], [0, 1], seed=1), fake("a", [0.1, 0.70], [0, 1], seed=2)]
    one_seed = shipped[:1]
    same = fake("a", [0.1, 0.90], [0, 3], seed=1)
    gap, sentence = rerun_check(one_seed, same)
    assert gap == 0.0 and "within the tolerance" in sentence and "95 % interval on 100 images" in sentence
    gap, sentence = rerun_check(one_seed, fake("a", [0.1, 0.70], [0, 1], seed=1))  # 20 points off, 95 %: ±6
    assert gap == pytest.approx(0.2) and "OUTSIDE the tolerance" in sentence
    # two shipped seeds, 0.90 and 0.70: sd 0.141, so 2 sd = 28 points of tolerance
    gap, sentence = rerun_check(shipped, fake("a", [0.1, 0.75], [0, 1], seed=1))
    assert gap == pytest.approx(0.15) and "within the tolerance of 28.28 points (2 sd of 2 shipped seeds)" in sentence
    for other in (
        fake("a", [0.1, 0.9], [0, 1], seed=3),
        fake("a", [0.1, 0.5, 0.9], [0, 1, 2], seed=1),
        fake("a", [0.1, 0.9], [0, 1], seed=1, n_val=50),
        fake("new", [0.1, 0.9], [0, 1], seed=1),
    ):
        gap, sentence = rerun_check(shipped, other)  # other seed, epochs, validation size or name: not comparable
        assert gap is None and "nothing to compare" in sentence
