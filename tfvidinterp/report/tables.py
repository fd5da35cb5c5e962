"""The paper's tables, and tables as CSV and Markdown.

Tables 1-2 come from `evaluate`'s JSON, Tables 3-4 and the t-tests from the
statistics that `tfvidinterp.jobs.compare` writes to `stats.json` (the
faithfulness tables: `faithfulness_tables`); `tfvidinterp.report.page`
renders them as HTML.
"""

import csv
import dataclasses
import io
import math

from tfvidinterp.measures import statistics

# Display names of the paper's tables; others keep their own name.
MODEL_NAMES = {"i3d": "I3D", "clstm": "C-LSTM"}
DATASET_NAMES = {"ssv2": "Smth-smth", "kth": "KTH", "synthetic": "Synthetic"}
_SPATIAL = ("blob_count", "blob_size", "center_distance")
_TEMPORAL = ("mask_length", "drop_ratio", "drop_difference")


@dataclasses.dataclass
class Table:
    """A table of the report.

    A cell is a string, a number, None (empty), or a `(mean, std)` pair,
    shown as "mean ± std" and written to CSV as two columns.

    Attributes:
        id: HTML id and CSV file name, e.g. "table3".
        title: Caption, e.g. "Table 3: Grad-CAM blob statistics".
        columns: Header names.
        rows: Lists of cells, one per column.
        note: Text shown under the table.
    """

    id: str
    title: str
    columns: list
    rows: list
    note: str = ""


def format_cell(cell) -> str:
    """A cell as shown: 3 significant digits, "mean ± std", "" for None.

    NaN, or a pair without a mean, shows as "–".
    """
    if cell is None:
        return ""
    if isinstance(cell, tuple):
        if cell[0] is None or math.isnan(cell[0]):
            return "–"
        return f"{format_cell(cell[0])} ± {format_cell(cell[1])}"
    if isinstance(cell, float):
        return "–" if math.isnan(cell) else f"{cell:.3g}"
    return str(cell)


def paper_tables(models, ttests, evals=None, drop_filter=0.001):
    """Tables 1-4 in the paper's layout, and the t-tests.

    Args:
        models: One dict per model, as in `stats.json`: `label`,
            `model_name`, `dataset`, `num_clips`, `clips_without_blobs`,
            `drop_ratio_left_out` and `summary` (`{measure: {"mean", "std",
            "n"}}`).
        ttests: Dicts `{"measure", "a", "b", "t", "p", "n_a", "n_b"}`.
        evals: Optional `evaluate` JSONs, one per model, for Tables 1-2.
        drop_filter: The drop ratio's filter bound, for Table 4's note.

    Returns:
        `Table`s with ids table1, table2 (only with `evals`), table3, table4
        and ttest.
    """
    shown = [_table1(models, evals), _table2(models, evals)] if evals else []
    return shown + [
        _table3(models),
        _table4(models, drop_filter),
        _ttest_table(ttests),
    ]


def _summary_rows(models, keys, *counts):
    """A row per model: its label, `(mean, std)` of each measure of `keys`
    and the values of `counts`."""
    return [
        [m["label"]]
        + [(m["summary"][k]["mean"], m["summary"][k]["std"]) for k in keys]
        + [m[c] for c in counts]
        for m in models
    ]


def _table3(models):
    names = dict(statistics.MEASURES)
    return Table(
        "table3",
        "Table 3: Statistics of the Grad-CAM maps (mean ± std over clips)",
        ["Model (Dataset)"]
        + [names[k] for k in _SPATIAL]
        + ["Clips", "Clips without blobs"],
        _summary_rows(models, _SPATIAL, "num_clips", "clips_without_blobs"),
        "Blobs per frame of each map scaled to 0-255 (OpenCV's "
        "SimpleBlobDetector). Blob size: mean keypoint diameter; center "
        "distance: mean distance from a blob's centre to the frame's; both "
        "in pixels at the input's resolution, over the clip's blobs, and "
        "clips without blobs are left out of them.",
    )


def _table4(models, drop_filter):
    names = dict(statistics.MEASURES)
    return Table(
        "table4",
        "Table 4: Statistics of the temporal masks (mean ± std over clips)",
        ["Model (Dataset)"]
        + [names[k] for k in _TEMPORAL]
        + ["Clips", "Left out of drop ratio"],
        _summary_rows(models, _TEMPORAL, "num_clips", "drop_ratio_left_out"),
        f"Drop ratio (OS-FS)/(OS-RS) leaves out clips with OS-RS <= "
        f"{drop_filter:g} or OS-FS <= {drop_filter:g} (the paper's "
        f"footnote); drop diff. is RS-FS over all clips.",
    )


def _ttest_table(ttests):
    names = dict(statistics.MEASURES)
    keys = ("a", "b", "t", "p", "n_a", "n_b")
    return Table(
        "ttest",
        "Welch's t-test (unequal variances) between models",
        ["Measure", "Model A", "Model B", "t", "p", "n A", "n B"],
        [[names[t["measure"]]] + [t[k] for k in keys] for t in ttests],
    )


def to_csv(table: Table) -> str:
    """The table as CSV text, full precision, `(mean, std)` split in two."""
    pairs = [
        any(isinstance(r[i], tuple) for r in table.rows)
        for i in range(len(table.columns))
    ]
    header = []
    for name, pair in zip(table.columns, pairs):
        header += [f"{name} mean", f"{name} std"] if pair else [name]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in table.rows:
        cells = []
        for cell, pair in zip(row, pairs):
            if pair:
                cells += list(cell) if isinstance(cell, tuple) else [cell, ""]
            else:
                cells.append("" if cell is None else cell)
        writer.writerow(cells)
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    """The table as Markdown, as TensorBoard's text plugin renders it."""
    lines = [
        f"**{table.title}**",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    lines += [
        "| " + " | ".join(format_cell(c) for c in row) + " |"
        for row in table.rows
    ]
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


def _table1(models, evals):
    datasets = list(dict.fromkeys(m["dataset"] for m in models))
    columns = [
        f"{DATASET_NAMES.get(d, d)} ({c})"
        for d in datasets
        for c in ("Top-1", "Top-5", "macro F1")
    ]
    rows, seen = {}, set()
    for model, result in zip(models, evals):
        name = MODEL_NAMES.get(model["model_name"], model["label"])
        if (name, model["dataset"]) in seen:
            name = model["label"]  # The same model twice on one dataset.
        seen.add((name, model["dataset"]))
        first = 1 + 3 * datasets.index(model["dataset"])
        for suffix, direction in (("", "forward"), (" (rev.)", "reversed")):
            row = rows.setdefault(
                name + suffix, [name + suffix] + [None] * len(columns)
            )
            row[first : first + 3] = [
                result[direction][k] for k in ("top1", "top5", "macro_f1")
            ]
    return Table(
        "table1",
        "Table 1: Accuracy and macro F1 per model; (rev.): every "
        "clip played backwards",
        ["Model"] + columns,
        list(rows.values()),
    )


def _table2(models, evals):
    classes = list(
        dict.fromkeys(c for result in evals for c in result["forward"]["f1"])
    )
    return Table(
        "table2",
        "Table 2: F1-score per class and model",
        ["Class"] + [m["label"] for m in models],
        [[c] + [r["forward"]["f1"].get(c) for r in evals] for c in classes],
    )
