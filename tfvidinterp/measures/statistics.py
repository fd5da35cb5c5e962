"""The paper's per-clip measures, their summaries and Welch's t-test (§4.3),
and the rank correlation of the sanity check.

Mänttäri, Broomé et al., "Interpreting Video Features: A Comparison of 3D
Convolutional Networks and Convolutional LSTM Networks", ACCV 2020,
https://arxiv.org/abs/2002.00367.
"""

import numpy as np
from scipy import stats

# (key, name in the tables) of every measure, in the order of Tables 3-4.
MEASURES = (
    ("blob_count", "Blob count"),
    ("blob_size", "Blob size"),
    ("center_distance", "Center distance"),
    ("mask_length", "Mask length"),
    ("drop_ratio", "Drop ratio"),
    ("drop_difference", "Drop diff."),
)


def drop_ratio(os, fs, rs, threshold=0.001):
    """`(OS - FS) / (OS - RS)`, leaving out clips whose drops are tiny.

    As the paper's footnote to Table 4: a clip with `OS - RS <= threshold`
    (its ratio would explode) or `OS - FS <= threshold` (for balance) gets
    NaN.

    Args:
        os: `(clips,)` scores of the target class on the clips as played.
        fs: `(clips,)` the same after the freeze perturbation.
        rs: `(clips,)` the same after the reverse perturbation.
        threshold: The filter's bound.

    Returns:
        `(ratios, left_out)`: `(clips,)` float with NaN where left out, and
        the number left out.
    """
    os, fs, rs = (np.asarray(v, np.float64) for v in (os, fs, rs))
    freeze_drop, reverse_drop = os - fs, os - rs
    keep = (reverse_drop > threshold) & (freeze_drop > threshold)
    ratios = np.full(os.shape, np.nan)
    ratios[keep] = freeze_drop[keep] / reverse_drop[keep]
    return ratios, int(np.sum(~keep))


def drop_difference(os, fs, rs):
    """`(OS - FS) - (OS - RS)`, that is `RS - FS`, per clip (`(clips,)`)."""
    os, fs, rs = (np.asarray(v, np.float64) for v in (os, fs, rs))
    return (os - fs) - (os - rs)


def summarize(values) -> dict:
    """Mean and standard deviation over the finite values.

    NaN marks a clip without the measure (no blob, or left out by the drop
    filter), so it is not counted. The deviation is NumPy's default, the
    population one (ddof=0).

    Args:
        values: `(clips,)` float.

    Returns:
        `{"mean", "std", "n"}`; mean and std are NaN when `n == 0`.
    """
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "n": int(len(values)),
    }


def welch_test(a, b) -> dict:
    """Welch's t-test (unequal variances) of the difference in means.

    Args:
        a: `(n_a,)` float, one model's values; NaN ignored.
        b: `(n_b,)` float, the other's; NaN ignored.

    Returns:
        `{"t", "p", "n_a", "n_b"}`; t and p are NaN with fewer than two
        values on either side.
    """
    a, b = (np.asarray(v, np.float64) for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    t = p = float("nan")
    if len(a) > 1 and len(b) > 1:
        result = stats.ttest_ind(a, b, equal_var=False)
        t, p = float(result.statistic), float(result.pvalue)
    return {"t": t, "p": p, "n_a": int(len(a)), "n_b": int(len(b))}


def spearman(a, b) -> float:
    """Spearman's rank correlation of two maps, flattened; NaN if either is
    constant (no ranking to compare).

    The model-randomisation sanity check (Adebayo et al., "Sanity Checks for
    Saliency Maps", NeurIPS 2018, https://arxiv.org/abs/1810.03292) compares
    a trained model's maps with a random-weight model's this way.
    """
    a = np.ravel(np.asarray(a, np.float64))
    b = np.ravel(np.asarray(b, np.float64))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b).statistic)


def finite_mean(values) -> float:
    """The mean of the finite values; NaN if there are none."""
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")
