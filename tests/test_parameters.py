"""Notebook parameters: declared once in mnist_course.course.parameters, matching every notebook, checked before a cell
runs."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import nbformat
import papermill
import pytest

from mnist_course import notebook
from mnist_course.course import parameters
from mnist_course.course.parameters import Param, ParameterError, check, check_value, resolve, use_parameters

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells_around_parameters(path: Path) -> tuple[str, str]:
    """The source of a notebook's parameters cell and of the cell right after it."""
    cells = nbformat.read(path, as_version=4).cells
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    return cells[i].source, cells[i + 1].source


def literals(source: str) -> dict[str, object]:
    """NAME -> value of every ``NAME = <literal>`` in a parameters cell (parsed, not executed)."""
    return {
        t.id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
    }


def python_only(source: str) -> str:
    """A cell's source without IPython magics (``%matplotlib inline``), so plain ``exec`` runs it."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def test_every_notebook_and_only_those_have_a_declaration():
    assert sorted(parameters.DECLARED) == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_parameters_cell_sets_exactly_the_declared_names_with_allowed_defaults(path):
    source, _ = cells_around_parameters(path)
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body), "the parameters cell holds only assignments"
    values = literals(source)
    assert list(values) == list(parameters.DECLARED[path.stem]), (
        "same names, same order as mnist_course/course/declared.py"
    )
    for name, value in values.items():
        check_value(path.stem, name, value)  # raises if the notebook's own default is not allowed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_cell_after_parameters_first_calls_start_and_no_longer_picks_by_hand(path):
    _, after = cells_around_parameters(path)
    body = ast.parse(python_only(after)).body
    assert isinstance(body[0], ast.ImportFrom) and body[0].module == "mnist_course.start"
    call = body[1].value
    assert isinstance(call, ast.Call) and call.func.id == "start"
    assert ast.literal_eval(call.args[0]) == path.stem and call.args[1].func.id == "globals"
    assert " or pick(" not in after and "check_profile(PROFILE)" not in after


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
@pytest.mark.parametrize(
    "injected, fragment",
    [
        ("SEEED = 1", "has no parameter 'SEEED'"),
        ("SEED = 'notanumber'", "SEED='notanumber' is not allowed; use an integer from 0 to"),
        ("PROFILE = 'fast'", "PROFILE='fast' is not allowed; use one of 'ci', 'student', 'full'"),
    ],
)
def test_the_notebook_itself_refuses_what_papermill_injects(path, injected, fragment):
    source, after = cells_around_parameters(path)
    namespace: dict[str, object] = {}
    exec(source, namespace)
    exec(injected, namespace)  # what papermill's injected-parameters cell does
    with pytest.raises(ParameterError, match=fragment.replace("(", r"\(").replace("[", r"\[")) as err:
        exec(python_only(after), namespace)  # stops at its first call, before any import of TensorFlow
    assert "\n" not in str(err.value) and path.stem in str(err.value)


def test_every_profile_has_a_value_wherever_none_depends_on_it():
    for stem, params in parameters.DECLARED.items():
        for name, param in params.items():
            if param.by_profile is not None:
                assert set(param.by_profile) == set(notebook.PROFILES), f"{stem} {name}"
                assert param.none_means, f"{stem} {name}: say what None means"


def test_model_and_run_choices_match_the_registry_and_notebook_07():
    from mnist_course.models import zoo as models

    assert list(parameters.DECLARED["08_playground"]["MODEL_NAME"].choices) == models.list_models()
    cnns = [n for n in models.list_models() if models.get_recipe(n).input_kind == "image"]
    assert sorted(parameters.DECLARED["06_what_the_cnn_sees"]["MODEL_NAME"].choices) == sorted(cnns)
    from mnist_course.lessons.optimizers_and_losses.entrants import RUNS

    names = [spec.name for spec in RUNS]
    assert len(names) == 16 and len(set(names)) == 16
    assert list(parameters.DECLARED["07_optimizers_and_losses"]["LIVE_RUNS"].choices) == names
    race_nb = nbformat.read(ROOT / "notebooks" / "07_optimizers_and_losses.ipynb", as_version=4)
    code = "\n".join(c.source for c in race_nb.cells if c.cell_type == "code")
    assert "for spec in RUNS:" in code, "notebook 07 shows the lesson module's RUNS"


@pytest.mark.parametrize(
    "stem, name, value, fragment",
    [
        ("04_mlp", "SEEED", 1, "04_mlp has no parameter 'SEEED': use one of PROFILE, SEED, TRAIN_SIZE"),
        ("04_mlp", "SEED", "notanumber", "SEED='notanumber' is not allowed; use an integer from 0 to 2147483646"),
        ("04_mlp", "SEED", True, "SEED=True is not allowed"),
        ("04_mlp", "SEED", 1.5, "SEED=1.5 is not allowed"),
        ("04_mlp", "SEED", None, "SEED=None is not allowed"),
        (
            "04_mlp",
            "EPOCHS_DENSE",
            -1,
            "EPOCHS_DENSE=-1 is not allowed; use an integer from 1 to 200, or None (1 in ci",
        ),
        ("04_mlp", "TRAIN_SIZE", 5, "TRAIN_SIZE=5 is not allowed; use an integer from 120 to 60000"),
        ("05_cnn", "RETRAIN", 1, "RETRAIN=1 is not allowed; use True or False"),
        ("05_cnn", "RETRAIN", "true", "RETRAIN='true' is not allowed; use True or False"),
        ("06_what_the_cnn_sees", "MODEL_NAME", "dense-512", "MODEL_NAME='dense-512' is not allowed; use one of"),
        ("07_optimizers_and_losses", "LIVE_RUNS", "adam,nadam", "use a list (or comma-separated string) of 'sgd'"),
        ("07_optimizers_and_losses", "LIVE_RUNS", [1], "LIVE_RUNS=[1] is not allowed"),
        (
            "08_playground",
            "TEST_EXAMPLES",
            20000,
            "TEST_EXAMPLES=20000 is not allowed; use an integer from 10 to 10000",
        ),
    ],
)
def test_a_bad_value_is_refused_in_one_line_naming_it_and_what_is_allowed(stem, name, value, fragment):
    with pytest.raises(ParameterError) as err:
        check_value(stem, name, value)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_values_are_coerced_where_declared_and_kept_otherwise(monkeypatch):
    monkeypatch.setitem(parameters.DECLARED, "99_test", {"RATE": Param(float, "a rate", minimum=0, maximum=1)})
    assert check("99_test", {"RATE": 1}) == {"RATE": 1.0} and isinstance(check("99_test", {"RATE": 1})["RATE"], float)
    with pytest.raises(ParameterError, match="RATE=True is not allowed"):
        check("99_test", {"RATE": True})
    assert check("07_optimizers_and_losses", {"LIVE_RUNS": "adam, sgd"}) == {"LIVE_RUNS": ["adam", "sgd"]}
    assert check("07_optimizers_and_losses", {"LIVE_RUNS": ("adam",)}) == {"LIVE_RUNS": ["adam"]}
    assert check("05_cnn", {"RETRAIN": False, "SEED": 0, "EPOCHS": None}) == {
        "RETRAIN": False,
        "SEED": 0,
        "EPOCHS": None,
    }
    with pytest.raises(ParameterError, match="no parameters declared for notebook '99_nope'"):
        check("99_nope", {})


def cell_namespace(stem: str, **overrides: object) -> dict[str, object]:
    source, _ = cells_around_parameters(ROOT / "notebooks" / f"{stem}.ipynb")
    namespace: dict[str, object] = {}
    exec(source, namespace)
    namespace.update(overrides)
    return namespace


def test_resolve_fills_none_from_the_profile_and_keeps_a_legitimate_zero(monkeypatch):
    # The expected values are the declaration's data (which the lesson's helper tunes), not resolve()'s output.
    declared = {name: p.by_profile for name, p in parameters.DECLARED["04_mlp"].items() if p.by_profile}
    monkeypatch.setenv(notebook.PROFILE_ENV, "ci")
    values = resolve("04_mlp", cell_namespace("04_mlp"))
    assert values == {"PROFILE": "ci", "SEED": 42, **{name: by["ci"] for name, by in declared.items()}}
    full = resolve("04_mlp", cell_namespace("04_mlp", PROFILE="full", SEED=0, EPOCHS_MLP=3))
    assert full == {
        "PROFILE": "full",
        "SEED": 0,
        **{name: by["full"] for name, by in declared.items()},
        "EPOCHS_MLP": 3,
    }
    assert values != full and set(declared) >= {"TRAIN_SIZE", "EPOCHS_DENSE"}, "the profiles differ somewhere"
    seen = resolve("06_what_the_cnn_sees", cell_namespace("06_what_the_cnn_sees", PROFILE="full", DIGIT_INDEX=0))
    assert seen["DIGIT_INDEX"] == 0 and seen["EPOCHS"] is None  # None in full: the recipe's own epochs
    race = resolve("07_optimizers_and_losses", cell_namespace("07_optimizers_and_losses", LIVE_RUNS="sgd,adam"))
    epochs = parameters.DECLARED["07_optimizers_and_losses"]["EPOCHS"].by_profile["ci"]
    assert race["LIVE_RUNS"] == ["sgd", "adam"] and race["EPOCHS"] == epochs


def test_use_parameters_updates_the_namespace_and_tolerates_the_notebooks_own_constants_on_a_rerun(monkeypatch):
    monkeypatch.setenv(notebook.PROFILE_ENV, "full")
    namespace = cell_namespace("05_cnn", np=types.ModuleType("numpy"), Figure=type("Figure", (), {}))
    namespace["SQUARE"] = lambda x: x * x  # functions and classes with capitals are not parameters
    use_parameters("05_cnn", namespace)
    full = {name: p.by_profile["full"] for name, p in parameters.DECLARED["05_cnn"].items() if p.by_profile}
    assert (namespace["PROFILE"], namespace["TRAIN_SIZE"], namespace["EPOCHS"], namespace["SEED_EPOCHS"]) == (
        "full",
        full["TRAIN_SIZE"],
        full["EPOCHS"],
        full["SEED_EPOCHS"],
    )
    namespace["BATCH"] = 256  # a constant a later cell of the notebook defines; the cell is then run again
    use_parameters("05_cnn", namespace)
    namespace["EPOCHS"] = 0  # a value is still checked on a re-run
    with pytest.raises(ParameterError, match="EPOCHS=0 is not allowed"):
        use_parameters("05_cnn", namespace)
    fresh = cell_namespace("05_cnn", BATCH=256)
    with pytest.raises(ParameterError, match="05_cnn has no parameter 'BATCH' \\(set to 256\\)"):
        use_parameters("05_cnn", fresh)
    del fresh["SEED"]
    fresh.pop("BATCH")
    with pytest.raises(ParameterError, match="the parameters cell does not set SEED"):
        use_parameters("05_cnn", fresh)


def test_pick_names_a_profile_left_without_a_value(monkeypatch):
    assert notebook.pick("ci", ci=1, full=5) == 1
    with pytest.raises(ValueError, match="pick\\(\\) has no value for the profile 'student': pass student="):
        notebook.pick("student", ci=1, full=5)


def test_papermill_injecting_an_unknown_name_fails_in_the_cell_after_parameters(tmp_path):
    source, _ = cells_around_parameters(ROOT / "notebooks" / "04_mlp.ipynb")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(source)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell(
            "from mnist_course.course.parameters import use_parameters\n\n"
            "use_parameters('04_mlp', globals())\nprint(TRAIN_SIZE)"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "04_mlp.ipynb"
    nbformat.write(nb, path)
    done = papermill.execute_notebook(
        str(path), str(tmp_path / "ok.ipynb"), parameters={"TRAIN_SIZE": 600}, kernel_name="python3", progress_bar=False
    )
    assert done.cells[-1].outputs[0]["text"] == "600\n"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(
            str(path), str(tmp_path / "bad.ipynb"), parameters={"SEEED": 1}, kernel_name="python3", progress_bar=False
        )
    assert err.value.ename == "ParameterError" and "04_mlp has no parameter 'SEEED'" in err.value.evalue
