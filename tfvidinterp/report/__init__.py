"""Rendering: tables, the HTML page, histograms, GIFs and TensorBoard; and
pictures of one explained clip for papers (`save_explanation`)."""

from tfvidinterp.report.pictures import save_explanation

__all__ = ["save_explanation"]
