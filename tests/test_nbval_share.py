"""Strict nbval compares at least three quarters of the stored output cells (figures and widgets alone excluded)."""

from __future__ import annotations

from tests import nbval_share


def test_at_least_three_quarters_of_the_output_cells_are_compared(capsys):
    rows = nbval_share.shares()
    with capsys.disabled():
        print("\n" + nbval_share.table(rows))
    with_outputs, compared = sum(r.with_outputs for r in rows), sum(r.compared for r in rows)
    assert with_outputs > 0, "the stored notebooks have no outputs: regenerate them (make regenerate)"
    assert compared / with_outputs >= nbval_share.TARGET, (
        f"nbval compares {compared} of {with_outputs} output cells: tag nbval-ignore-output only what truly varies"
    )


def test_a_figure_or_a_widget_alone_is_not_counted_and_a_tag_makes_a_cell_uncompared(tmp_path):
    import nbformat

    v4 = nbformat.v4
    figure = v4.new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    )
    widget = v4.new_output("display_data", data={nbval_share.WIDGET_MIME: {"model_id": "x"}, "text/plain": "VBox()"})
    text = v4.new_output("stream", text="60000\n")
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell("plot()", outputs=[figure]),
            v4.new_code_cell("w", outputs=[widget]),
            v4.new_code_cell("print(n)", outputs=[text]),
            v4.new_code_cell("print(n); plot()", outputs=[text, figure]),
            v4.new_code_cell("fit()", outputs=[text], metadata={"tags": ["nbval-ignore-output"]}),
            v4.new_code_cell("x = 1"),
            v4.new_markdown_cell("prose"),
        ]
    )
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    share = nbval_share.count(tmp_path / "01_x.ipynb")
    assert (share.with_outputs, share.compared, share.figures_or_widgets) == (3, 2, 2)
