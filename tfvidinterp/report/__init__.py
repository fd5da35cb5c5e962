"""Rendering: tables, the HTML page, histograms, GIFs and TensorBoard."""
