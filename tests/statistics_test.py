"""Tests for tfvidinterp.measures.statistics and .figures (histograms)."""

import io

import numpy as np
import tensorflow as tf
from absl.testing import parameterized
from PIL import Image
from scipy import stats

from tfvidinterp.measures import statistics
from tfvidinterp.report import figures


class StatisticsTest(tf.test.TestCase, parameterized.TestCase):
    def test_drop_ratio_applies_the_footnote_filter_and_counts_it(self):
        os = [0.9, 0.9, 0.9, 0.5, 0.8]
        fs = [0.1, 0.5, 0.8995, 0.2, 0.3]  # Clip 2: OS - FS = 0.0005.
        rs = [0.5, 0.8995, 0.1, 0.5, 0.7]  # Clip 1: 0.0005; clip 3: 0.
        ratios, left_out = statistics.drop_ratio(os, fs, rs, 0.001)
        self.assertAllClose(ratios, [2.0, np.nan, np.nan, np.nan, 5.0])
        self.assertEqual(left_out, 3)

    def test_drop_ratio_filter_includes_its_bound(self):
        ratios, left_out = statistics.drop_ratio(
            [1.0, 1.0], [0.5, 0.75], [0.75, 0.5], threshold=0.25
        )
        self.assertTrue(np.all(np.isnan(ratios)))
        self.assertEqual(left_out, 2)

    def test_drop_difference_is_reverse_minus_freeze_score(self):
        diff = statistics.drop_difference([0.9, 0.6], [0.1, 0.5], [0.5, 0.7])
        self.assertAllClose(diff, [0.4, 0.2])

    def test_summary_ignores_nan(self):
        summary = statistics.summarize([1.0, 2.0, np.nan, 3.0])
        self.assertAllClose(
            [summary["mean"], summary["std"]], [2.0, np.sqrt(2 / 3)]
        )
        self.assertEqual(summary["n"], 3)
        self.assertEqual(statistics.summarize([np.nan])["n"], 0)

    def test_welch_test_matches_scipy_and_the_formula(self):
        rng = np.random.default_rng(0)
        a = rng.normal(1.0, 1.0, 40)
        b = np.concatenate([rng.normal(1.5, 3.0, 25), [np.nan]])
        result = statistics.welch_test(a, b)
        expected = stats.ttest_ind(a, b[:-1], equal_var=False)
        self.assertAllClose(
            [result["t"], result["p"]], [expected.statistic, expected.pvalue]
        )
        t = (a.mean() - b[:-1].mean()) / np.sqrt(
            a.var(ddof=1) / 40 + b[:-1].var(ddof=1) / 25
        )
        self.assertAllClose(result["t"], t)
        self.assertEqual((result["n_a"], result["n_b"]), (40, 25))

    def test_welch_test_needs_two_values_per_side(self):
        result = statistics.welch_test([1.0], [1.0, 2.0, 3.0])
        self.assertTrue(np.isnan(result["p"]))

    def test_histograms_share_edges_and_are_normalised(self):
        a = np.array([0.0, 1.0, 1.0, 2.0, np.nan])
        b = np.array([2.0, 3.0, 4.0, 4.0, 4.0, 8.0])
        edges, (da, db) = figures.histograms([a, b], bins=8)
        self.assertAllClose(edges, np.linspace(0, 8, 9))
        for density in (da, db):
            self.assertAllClose(np.sum(density * np.diff(edges)), 1.0)
        self.assertAllClose(da[:3], [0.25, 0.5, 0.25])
        self.assertAllClose(db[4], 0.5)

    def test_histogram_plot_is_a_png(self):
        png = figures.plot_histograms(
            [[1.0, 2.0], [2.0, 3.0]], ["I3D", "C-LSTM"], "Blob count", 4
        )
        image = Image.open(io.BytesIO(png))
        self.assertEqual((image.format, image.size), ("PNG", (400, 300)))


if __name__ == "__main__":
    tf.test.main()
