"""What the demo reports at its end (`demo.run`): its summary, read from
the stages' outputs (reports, SavedModels, test accuracy, faithfulness,
missed targets and times), and the summary as text."""

import os

from tfvidinterp.data import video_ops
from tfvidinterp.jobs import evaluate
from tfvidinterp.jobs import faithfulness
from tfvidinterp.jobs import resultsdir
from tfvidinterp.measures import targets

# The test accuracy below which the demo says a model has not learned the
# task. Training stops at the config's validation target, which may be
# higher to leave room for the sampling error of 200 test clips (+-0.015).
TEST_ACCURACY = 0.95


def accuracy_warnings(demo):
    """A sentence per model of `demo` whose test accuracy is below
    TEST_ACCURACY (the summary's, and the compare reports' banners)."""
    warnings = []
    for name in demo.configs:
        top1 = evaluate.load_eval(demo.eval_file(name))["forward"]["top1"]
        if top1 < TEST_ACCURACY:
            warnings.append(
                f"{name}: test accuracy {top1:.3f} is below "
                f"{TEST_ACCURACY:g}, so its explanations explain a model "
                "that has not learned the task; run the demo again with "
                "another --seed, or train longer (train.target_accuracy "
                "and train.steps_per_epoch in its config)"
            )
    return warnings


def summary(demo, seconds, perturbations):
    """`demo.run`'s summary, read from the stages' outputs of `demo` (a
    `demo._Demo`), with the reports of `perturbations`.

    Returns:
        `reports` (perturbation -> report.html), `saved_models` (run ->
        {"classifier", "explainer"} paths), `accuracy` (run ->
        {"forward", "reversed"} test top-1), `faithfulness` (a Markdown
        table), `warnings` (every missed target accuracy or
        faithfulness target, with what to try; also in the reports'
        banners), `stage_seconds` and `total_seconds` (their sum, over
        every run).
    """
    accuracy, faithful, warnings = {}, [], accuracy_warnings(demo)
    for name in demo.runs:
        result = evaluate.load_eval(demo.eval_file(name))
        accuracy[name] = {d: result[d]["top1"] for d in ("forward", "reversed")}
        faithful.append(
            resultsdir.load_faithfulness(demo.results_dir(name, "freeze"))
        )
        warnings += [
            f"{name}: {missed}"
            for missed in targets.missed_targets(faithful[-1])
        ]
    return {
        "reports": {p: demo.report(p) for p in perturbations},
        "saved_models": {n: demo.saved_models(n) for n in demo.runs},
        "accuracy": accuracy,
        "faithfulness": faithfulness.markdown_table(faithful),
        "warnings": warnings,
        "stage_seconds": seconds,
        "total_seconds": round(sum(seconds.values()), 1),
    }


def text(summary, demo) -> str:
    """`summary` as `demo.run` prints it: where the reports, TensorBoard logs
    and SavedModels are, the accuracies and faithfulness, and any missed
    target in a WARNING block."""
    config = next(iter(demo.configs.values()))
    size = config.input.image_size
    height, width = video_ops.height_width(size)
    shape = (1, config.input.num_frames, height, width, 3)
    paths = next(iter(summary["saved_models"].values()))
    lines = [
        "Reports (open in a browser; no server needed):",
        *(
            f"  {p} masks: file://{path}"
            for p, path in summary["reports"].items()
        ),
        "  or serve one: python -m http.server --directory "
        f"{os.path.dirname(summary['reports']['freeze'])} 8000, then open "
        "http://localhost:8000/report.html",
        f"TensorBoard: tensorboard --logdir {demo.workdir}",
        "SavedModels (take RGB frames (batch, frames, H, W, 3) in [0, 255]):",
        *(
            f"  {n}: {p['classifier']} (logits, probabilities), "
            f"{p['explainer']} (+ Grad-CAM heatmaps)"
            for n, p in summary["saved_models"].items()
        ),
        '  python -c "import numpy as np, tensorflow as tf; '
        f"m = tf.saved_model.load('{paths['classifier']}'); "
        f"print(m.serve(np.zeros({shape}, np.float32))"
        "['probabilities'].numpy())\"",
        f"Test top-1 accuracy, forward / time-reversed "
        f"({demo.counts[2]} clips):",
        *(
            f"  {n}: {a['forward']:.3f} / {a['reversed']:.3f}"
            for n, a in summary["accuracy"].items()
        ),
        "Faithfulness of the freeze masks (the first "
        f"{min(demo.clips, demo.counts[2])} test clips):",
        summary["faithfulness"],
        "Stage times: "
        + ", ".join(
            f"{s} {t:.1f} s" for s, t in summary["stage_seconds"].items()
        ),
        f"Total: {summary['total_seconds']:.1f} s over every run of the "
        f"demo in {demo.workdir}; this run: {summary['seconds']:.1f} s.",
    ]
    if summary["warnings"]:
        lines += [
            "",
            "!" * 72,
            f"WARNING: {len(summary['warnings'])} target(s) missed; "
            "these results do not yet demonstrate the method:",
            *(f"  - {w}" for w in summary["warnings"]),
            "!" * 72,
        ]
    else:
        lines.append("Every target accuracy and faithfulness target was met.")
    return "\n".join(lines)
