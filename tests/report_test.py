"""Tests for tfvidinterp.report; one page rendered by headless Chromium."""

import os
import shutil

import pytest
import tensorflow as tf
from absl.testing import parameterized

from tests import testing
from tfvidinterp.measures import statistics
from tfvidinterp.report import faithfulness_tables
from tfvidinterp.report import figures
from tfvidinterp.report import page
from tfvidinterp.report import tables

TABLE = tables.Table(
    "table3",
    "Table 3: Blobs",
    ["Model (Dataset)", "Blob count", "Clips"],
    [
        ["I3D (KTH)", (1.0512, 0.5), 3],
        ["C-LSTM (KTH)", (32.6, float("nan")), None],
    ],
    "A note.",
)


class ReportTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(
        (None, ""),
        (0.123456, "0.123"),
        (1234.5, "1.23e+03"),
        (float("nan"), "–"),
        ((1.6, 0.974), "1.6 ± 0.974"),
        ("x", "x"),
    )
    def test_format_cell(self, cell, text):
        self.assertEqual(tables.format_cell(cell), text)

    def test_csv_splits_mean_and_std_and_keeps_precision(self):
        self.assertEqual(
            tables.to_csv(TABLE).splitlines(),
            [
                "Model (Dataset),Blob count mean,Blob count std,Clips",
                "I3D (KTH),1.0512,0.5,3",
                "C-LSTM (KTH),32.6,nan,",
            ],
        )

    def test_markdown(self):
        lines = tables.to_markdown(TABLE).splitlines()
        self.assertEqual(
            lines[2:5],
            [
                "| Model (Dataset) | Blob count | Clips |",
                "|---|---|---|",
                "| I3D (KTH) | 1.05 ± 0.5 | 3 |",
            ],
        )

    def test_paper_tables_layout_for_two_models_on_two_datasets(self):
        models, evals = [], []
        for i, (model, dataset) in enumerate(
            [
                ("i3d", "kth"),
                ("clstm", "kth"),
                ("i3d", "ssv2"),
                ("clstm", "ssv2"),
            ]
        ):
            summary = {
                k: {"mean": i + 0.5, "std": 0.25, "n": 3}
                for k, _ in statistics.MEASURES
            }
            summary["blob_size"] = {"mean": None, "std": None, "n": 0}
            models.append(
                {
                    "label": f"m{i}",
                    "model_name": model,
                    "dataset": dataset,
                    "num_clips": 3,
                    "clips_without_blobs": 3,
                    "drop_ratio_left_out": i,
                    "summary": summary,
                }
            )
            result = {
                "top1": i / 10,
                "top5": 1.0,
                "macro_f1": 0.5,
                "f1": {f"{dataset}_class": i / 10},
            }
            evals.append(
                {"forward": result, "reversed": dict(result, top1=i / 100)}
            )
        ttest = {
            "measure": "drop_ratio",
            "a": "m0",
            "b": "m1",
            "t": 2.0,
            "p": 0.01,
            "n_a": 3,
            "n_b": 3,
        }
        shown = tables.paper_tables(models, [ttest], evals, 0.001)
        self.assertEqual(
            [t.id for t in shown],
            ["table1", "table2", "table3", "table4", "ttest"],
        )
        table1 = shown[0]
        self.assertEqual(
            table1.columns,
            [
                "Model",
                "KTH (Top-1)",
                "KTH (Top-5)",
                "KTH (macro F1)",
                "Smth-smth (Top-1)",
                "Smth-smth (Top-5)",
                "Smth-smth (macro F1)",
            ],
        )
        self.assertEqual(
            [r[0] for r in table1.rows],
            ["I3D", "I3D (rev.)", "C-LSTM", "C-LSTM (rev.)"],
        )
        self.assertEqual([r[1] for r in table1.rows], [0.0, 0.0, 0.1, 0.01])
        self.assertEqual([r[4] for r in table1.rows], [0.2, 0.02, 0.3, 0.03])
        self.assertEqual(shown[1].rows[0], ["kth_class", 0.0, 0.1, None, None])
        table3 = tables.to_markdown(shown[2]).splitlines()
        self.assertEqual(
            table3[5], "| m1 | 1.5 ± 0.25 | – | 1.5 ± 0.25 | 3 | 3 |"
        )
        self.assertEqual(shown[3].rows[3][-1], 3)
        self.assertEqual(
            shown[4].rows, [["Drop ratio", "m0", "m1", 2.0, 0.01, 3, 3]]
        )

    def test_faithfulness_table(self):
        table = faithfulness_tables.faithfulness_table(
            [testing.FAITHFULNESS, None], ["I3D (Synthetic)", "C-LSTM"]
        )
        self.assertEqual(table.id, "faithfulness")
        self.assertEqual(
            table.columns,
            [
                "Measure",
                "Target",
                "I3D (Synthetic)",
                "I3D (Synthetic) baseline",
                "I3D (Synthetic) target met",
                "C-LSTM",
                "C-LSTM baseline",
                "C-LSTM target met",
            ],
        )
        self.assertEqual(
            [row[1:5] for row in table.rows],
            [
                [">= baseline + 0.2", 0.6, 0.3, "yes"],
                [">= baseline + 0.15", 0.25, 0.5, "no"],
                [">= 2 x baseline", 0.2, 0.08, "yes"],
                ["none (above baseline is faithful)", 0.7, 0.2, None],
                ["none (above baseline is faithful)", 0.55, 0.35, None],
                ["< baseline", 0.3, 0.5, "yes"],
                ["none (above baseline is faithful)", 0.6, 0.5, None],
                ["< 0.5", None, None, None],
            ],
        )
        self.assertEqual(
            {tuple(row[5:]) for row in table.rows}, {(None, None, None)}
        )
        self.assertIn(
            "I3D (Synthetic): 10 clips with ground truth, 7 of object classes",
            table.note,
        )
        self.assertIn(
            "40 event frames with an object in 12 clips at layer "
            "Mixed_3c (pointing game, tolerance 3 px",
            table.note,
        )
        self.assertIn("C-LSTM: not measured.", table.note)
        lines = tables.to_markdown(
            faithfulness_tables.faithfulness_table([testing.FAITHFULNESS])
        ).splitlines()
        self.assertEqual(
            lines[2],
            "| Measure | Target | I3D (i3d_synthetic) "
            "| I3D (i3d_synthetic) baseline | I3D "
            "(i3d_synthetic) target met |",
        )
        self.assertTrue(
            lines[5].startswith(
                "| Pointing game hit rate at the explained layer; baseline: "
                "the frame centre | >= baseline + 0.15 | 0.25 | 0.5 | no |"
            )
        )

    def test_layer_table(self):
        table = faithfulness_tables.layer_table(
            [testing.FAITHFULNESS, None], ["I3D (Synthetic)", "C-LSTM"]
        )
        self.assertEqual(table.id, "layers")
        self.assertEqual(
            table.rows,
            [
                [
                    "I3D (Synthetic)",
                    "Conv3d_2c_3x3",
                    "16x16",
                    0.5,
                    0.5,
                    0.25,
                    0.08,
                    3.125,
                ],
                [
                    "I3D (Synthetic)",
                    "Mixed_3c (explained)",
                    "8x8",
                    0.25,
                    0.5,
                    0.2,
                    0.08,
                    2.5,
                ],
                [
                    "I3D (Synthetic)",
                    "input gradient (baseline)",
                    "",
                    0.75,
                    0.5,
                    0.3,
                    0.08,
                    3.75,
                ],
            ],
        )
        self.assertIn(
            "pointing >= centre + 0.15, energy >= 2 x area", table.note
        )

    def test_warnings_banner(self):
        text = page.to_html(
            "T",
            "intro",
            [TABLE],
            [],
            [],
            ["i3d: test accuracy 0.458 <below> its target"],
        )
        self.assertIn('<div class="banner" role="alert">', text)
        self.assertIn(
            "<li>i3d: test accuracy 0.458 &lt;below&gt; its target</li>", text
        )
        self.assertLess(text.index('banner"'), text.index("intro"))
        self.assertNotIn(
            'class="banner"', page.to_html("T", "intro", [TABLE], [], [])
        )

    def test_html_is_self_contained(self):
        png = figures.plot_histograms([[1.0]], ["I3D"], "Blob count", 2)
        text = page.to_html(
            "Title <x>",
            "intro",
            [TABLE],
            [("hist", png)],
            [("clip", b"GIF89a")],
        )
        self.assertIn('<table id="table3">', text)
        self.assertIn("Title &lt;x&gt;", text)
        self.assertEqual(text.count('src="data:image/'), 2)
        self.assertNotRegex(text, r"(src|href)=\"(?!data:)")

    @pytest.mark.slow
    def test_chromium_counts_loaded_and_broken_images(self):
        png = figures.plot_histograms([[1.0]], ["I3D"], "Blob count", 2)
        path = os.path.join(self.get_temp_dir(), "page.html")
        with open(path, "w") as f:
            f.write(
                page.to_html(
                    "T",
                    "",
                    [TABLE],
                    [("hist", png)],
                    [("broken", b"not an image")],
                )
            )
        user_dir = os.path.join(self.get_temp_dir(), "chromium")
        dom = testing.render(path, user_dir)
        shutil.rmtree(user_dir, ignore_errors=True)
        self.assertEqual(testing.images_loaded(dom), (1, 2))
        self.assertIn('<table id="table3">', dom)
        self.assertIn("1.05 ± 0.5", dom)


if __name__ == "__main__":
    tf.test.main()
