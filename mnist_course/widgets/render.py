"""Pure rendering helpers shared by the widgets: images to PNG bytes and pixel values to HTML."""

from __future__ import annotations

import html
import io

import numpy as np


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Repeat every pixel ``factor`` times in both directions (nearest neighbour, so pixels stay sharp)."""
    if factor < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def png_bytes(image: np.ndarray, *, scale: int = 1, vmax: float = 255.0) -> bytes:
    """A 2-D grey image (0 = white, ``vmax`` = black, like ink on paper) or an RGB uint8 image as PNG bytes."""
    from matplotlib.image import imsave

    image = upscale(np.asarray(image), scale)
    buffer = io.BytesIO()
    if image.ndim == 2:
        imsave(buffer, image, cmap="gray_r", vmin=0.0, vmax=vmax, format="png")
    elif image.ndim == 3 and image.shape[-1] == 3:
        imsave(buffer, image.astype(np.uint8), format="png")
    else:
        raise ValueError(f"expected a 2-D grey or (h, w, 3) RGB image, got shape {image.shape}")
    return buffer.getvalue()


def _cell(shade: float, text: str) -> str:
    """One table cell: background grey level ``shade`` in [0, 1] (1 = black ink), text readable on it."""
    level = round(255 * (1 - shade))
    colour = ";color:#fff" if shade > 0.5 else ""
    return f'<td style="background:#{level:02x}{level:02x}{level:02x}{colour}">{html.escape(text)}</td>'


def pixel_table_html(image: np.ndarray, *, css_class: str = "mnist-pixel-table") -> str:
    """An HTML table of the image's pixel values, one cell per pixel, shaded like the image itself."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"pixel_table_html() expects a 2-D image, got shape {image.shape}")
    top = 255.0 if image.dtype == np.uint8 or image.max() > 1 else 1.0
    rows = []
    for row in image:
        cells = "".join(_cell(float(v) / top, f"{v:g}" if top == 1.0 else str(int(v))) for v in row)
        rows.append(f"<tr>{cells}</tr>")
    style = (
        f"<style>.{css_class}{{border-collapse:collapse;font-family:monospace;font-size:7pt}}"
        f".{css_class} td{{width:1.9em;height:1.2em;padding:0;text-align:center}}</style>"
    )
    return f'{style}<table class="{css_class}">' + "".join(rows) + "</table>"


__all__ = ["pixel_table_html", "png_bytes", "upscale"]
