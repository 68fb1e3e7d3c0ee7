"""Notebook 05's two shipped results files: their format, written with the seeds and parameters that made them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mnist_course.models import zoo as models
from mnist_course.models.recipes import ALTERNATIVES
from mnist_course.shipped import shipped_path, write_results

FORMAT = 1


def with_settings(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with the seeds and the notebook parameters that produced them at the top (``"seeds"``,
    ``"settings": {"TRAIN_SIZE": ..., "SEED": ...}``), read from what the run recorded."""
    seeds = sorted({s for m in results.get("models", {}).values() for s in m.get("seeds", [])})
    seeds = seeds or [results["seed"]]
    images = results.get("train_images", 0) + results.get("validation_images", 0)
    return {**results, "seeds": seeds, "settings": {"SEED": seeds[0], "TRAIN_SIZE": images}}


def save_results(file: str, results: dict[str, Any]) -> Path:
    """Write ``results`` (:func:`with_settings`) as stable JSON (sorted keys) to ``notebooks/results/<file>``,
    atomically."""
    return write_results(shipped_path(file), with_settings(results), fmt=FORMAT)


def known_models() -> list[str]:
    """Every model a notebook 05 results file may name: the registry and the validation alternatives."""
    return [*models.list_models(), *ALTERNATIVES]


def seconds_of(info: dict[str, Any]) -> float | None:
    """A cached model's training seconds as the results files keep them: rounded, ``None`` (JSON null) where unknown."""
    return None if info.get("seconds") is None else round(float(info["seconds"]), 1)


__all__ = ["FORMAT", "known_models", "save_results", "seconds_of", "with_settings"]
