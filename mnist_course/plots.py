"""The figure policy: pyplot-free figures made one way, finished one way, and images tiled into one picture.

The course's figure policy lives here: every plotting function of the package returns a pyplot-free
:class:`matplotlib.figure.Figure` made by :func:`new_figure`. A notebook shows it as the last expression of a cell
(or with ``display(fig)`` in a loop); pyplot never holds it, so it is never shown twice and never leaks memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

# The course's one convention for signed values (weights, kernels, feature maps, gradients): red above 0, blue below,
# white at 0, on a scale symmetric about 0, always with a colour bar.
SIGNED_CMAP = "RdBu_r"


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A pyplot-free Figure of ``width`` x ``height`` inches (``kwargs`` go to ``Figure``, e.g. ``layout=``):
    the one way the package makes figures."""
    return Figure(figsize=(width, height), **kwargs)


def finish_figure(fig: Figure, title: str | None = None) -> Figure:
    """Give ``fig`` its title (if any) and a tight layout; returns it, ready for the notebook to show."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def tile_images(tiles: Sequence[np.ndarray], ncols: int, *, gap: int = 1, fill: float = 0) -> np.ndarray:
    """Equal-sized tiles, (h, w) or (h, w, colours), laid out row by row in ``ncols`` columns, ``gap`` pixels apart
    on a background of ``fill``, as one array of the first tile's dtype (the unused end of the last row is ``fill``)."""
    tiles = [np.asarray(t) for t in tiles]
    if not tiles:
        raise ValueError("tile_images() needs at least one tile")
    (h, w), extra = tiles[0].shape[:2], tiles[0].shape[2:]
    ncols = max(1, min(ncols, len(tiles)))
    nrows = -(-len(tiles) // ncols)
    out = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap, *extra), fill, dtype=tiles[0].dtype)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, ncols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = tile
    return out


__all__ = ["SIGNED_CMAP", "finish_figure", "new_figure", "tile_images"]
