"""Normalised histograms of a measure, models overlaid (paper Fig. 4)."""

import io

import numpy as np
from matplotlib import figure as mpl_figure

# The paper's Fig. 4 colours: I3D orange, C-LSTM blue; then matplotlib's.
COLORS = ("#ff7f0e", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def histograms(values_by_model, bins=20):
    """Densities of each model's values over shared bin edges.

    Args:
        values_by_model: A list of `(clips,)` float arrays; NaN ignored.
        bins: Number of bins spanning all models' finite values.

    Returns:
        `(edges, densities)`: `(bins + 1,)` edges and one `(bins,)` density
        per model, each integrating to 1 (all zeros for a model without
        values).
    """
    finite = [np.asarray(v, np.float64) for v in values_by_model]
    finite = [v[np.isfinite(v)] for v in finite]
    pooled = np.concatenate(finite)
    if not len(pooled):
        pooled = np.zeros(1)
    edges = np.histogram_bin_edges(pooled, bins=bins)
    densities = [
        np.histogram(v, edges, density=True)[0] if len(v) else np.zeros(bins)
        for v in finite
    ]
    return edges, densities


def plot_histograms(values_by_model, labels, title, bins=20) -> bytes:
    """Plots `histograms(...)` overlaid, one colour per model.

    Args:
        values_by_model: A list of `(clips,)` float arrays; NaN ignored.
        labels: The legend's name of each model.
        title: The measure's name.
        bins: Number of shared bins.

    Returns:
        The PNG image's bytes.
    """
    edges, densities = histograms(values_by_model, bins)
    fig = mpl_figure.Figure(figsize=(4.0, 3.0), dpi=100)
    axes = fig.add_subplot()
    for i, (density, label) in enumerate(zip(densities, labels)):
        axes.stairs(
            density,
            edges,
            fill=True,
            alpha=0.5,
            label=label,
            color=COLORS[i % len(COLORS)],
        )
    axes.set_title(title)
    axes.set_ylabel("density")
    axes.legend(fontsize="small")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
