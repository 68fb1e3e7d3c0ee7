"""Interactive widgets of the notebooks, built so their logic can be tested without a browser."""

from mnist_course.widgets.browser import ImageBrowser, indices_for_label
from mnist_course.widgets.confusion import ConfusionMatrix
from mnist_course.widgets.draw_canvas import DrawCanvas
from mnist_course.widgets.draw_pad import DrawPad
from mnist_course.widgets.feature_explorer import FeatureExplorer
from mnist_course.widgets.race_viewer import RaceViewer
from mnist_course.widgets.render import pixel_table_html, png_bytes
from mnist_course.widgets.vector import ImageToVector, row_positions, row_table_html, vector_strip

__all__ = [
    "ConfusionMatrix",
    "DrawCanvas",
    "DrawPad",
    "FeatureExplorer",
    "ImageBrowser",
    "ImageToVector",
    "RaceViewer",
    "indices_for_label",
    "pixel_table_html",
    "png_bytes",
    "row_positions",
    "row_table_html",
    "vector_strip",
]
