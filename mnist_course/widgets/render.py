"""Pure rendering helpers shared by the widgets: images to PNG bytes and pixel values to HTML."""

from __future__ import annotations

import html
import io

import numpy as np

# Secondary (greyed) text: the JupyterLab theme's own colour for it, readable in the light and the dark theme; #666
# where no JupyterLab theme is loaded (Colab, the classic Notebook).
SECONDARY_TEXT = "color:var(--jp-content-font-color2, #666)"


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


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#rrggbb``): white once the background's relative
    luminance (sRGB, WCAG's definition) falls below the point where both give the same contrast."""
    channels = [int(background[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#ffffff" if luminance < 0.179 else "#000000"


def _cell(shade: float, text: str) -> str:
    """One table cell: background grey level ``shade`` in [0, 1] (1 = black ink), its text black or white, whichever
    reads better (always set: a dark theme's light default text would vanish on the white cells)."""
    level = round(255 * (1 - shade))
    background = f"#{level:02x}{level:02x}{level:02x}"
    return f'<td style="background:{background};color:{text_colour(background)}">{html.escape(text)}</td>'


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


__all__ = ["SECONDARY_TEXT", "pixel_table_html", "png_bytes", "text_colour", "upscale"]
