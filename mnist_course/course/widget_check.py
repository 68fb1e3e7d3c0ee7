"""Does ipywidgets' front end match its kernel side? The usual cause of "Error displaying widget", checked."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MANAGER = "@jupyter-widgets/jupyterlab-manager"
# kernel-side ipywidgets major version -> JupyterLab widget-manager major versions that can render it
COMPATIBLE = {7: (3, 5), 8: (5,)}

FIXES = (
    "JupyterLab: pip install -U 'ipywidgets>=8' 'jupyterlab_widgets>=3' in the environment that runs "
    "`jupyter lab`, then restart JupyterLab and reload the page. "
    "VS Code: install/update the Jupyter extension and select this environment's kernel (it renders "
    "ipywidgets 8 itself). Colab: keep the ipywidgets Colab ships (7.x renders every course widget; the draw "
    "pad, an anywidget, switches on Colab's custom widget manager by itself)."
)


@dataclass(frozen=True)
class WidgetCheck:
    """Versions found on both sides, whether they fit, and what to do when they don't."""

    kernel_version: str
    frontend_version: str | None
    frontend_path: str | None
    ok: bool
    message: str


def find_frontend(search_path: list[str] | None = None) -> tuple[str | None, str | None]:
    """Version and location of the installed JupyterLab widget manager (prebuilt labextension), if any."""
    if search_path is None:
        from jupyter_core.paths import jupyter_path

        search_path = jupyter_path("labextensions")
    for folder in search_path:
        package = Path(folder) / MANAGER / "package.json"
        if package.is_file():
            return json.loads(package.read_text())["version"], str(package.parent)
    return None, None


def check_widgets(kernel_version: str | None = None, search_path: list[str] | None = None) -> WidgetCheck:
    """Compare ipywidgets (kernel side) with the JupyterLab widget manager that renders it (front end)."""
    if kernel_version is None:
        import ipywidgets

        kernel_version = ipywidgets.__version__
    frontend, where = find_frontend(search_path)
    major = int(kernel_version.split(".")[0])
    if frontend is None:
        return WidgetCheck(
            kernel_version,
            None,
            None,
            False,
            f"ipywidgets {kernel_version} is installed but JupyterLab has no widget manager "
            f"({MANAGER}): widgets will show 'Error displaying widget'. {FIXES}",
        )
    front_major = int(frontend.split(".")[0])
    if front_major not in COMPATIBLE.get(major, ()):
        return WidgetCheck(
            kernel_version,
            frontend,
            where,
            False,
            f"ipywidgets {kernel_version} (kernel) does not fit the JupyterLab widget manager "
            f"{frontend} at {where}. {FIXES}",
        )
    return WidgetCheck(
        kernel_version,
        frontend,
        where,
        True,
        f"ipywidgets {kernel_version} with JupyterLab widget manager {frontend}: they match",
    )
