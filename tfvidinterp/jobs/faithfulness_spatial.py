"""The spatial measures of `faithfulness.run`, on the first clips of the
explained split: the Grad-CAM pointing game and the energy in the object
boxes at every swept layer (`layer_sweep.LayerSweep`) and of the input
gradient, and at the explained layer.
"""

from tfvidinterp.data import pipeline
from tfvidinterp.interp import layer_sweep
from tfvidinterp.measures import spatial


def _no_spatial(record):
    """`_spatial`'s keys for results without ground truth: the explained
    layer (`record`'s), the measures None and no layer rows."""
    return {
        "layer": record["gradcam"]["layer"],
        "pointing_game": dict.fromkeys(
            ("gradcam", "centre", "frames", "clips", "tolerance_px")
        ),
        "energy": dict.fromkeys(("energy", "area", "ratio")),
        "layers": [],
    }


def measures(model, config, clips, groups, layers, count, tolerance):
    """The pointing game and the energy in the boxes at the explained layer,
    and `layers`: the rows of `_layer_rows`; `_no_spatial` without records
    with ground truth (`groups`: `faithfulness._groups`)."""
    if not groups["truths"]:
        return _no_spatial(groups["all"][0])
    record = groups["truths"][0]
    if tolerance is None:
        height, width = next(iter(clips.values()))["heatmaps"].shape[1:]
        tolerance = spatial.default_tolerance(height, width)
    rows = _layer_rows(model, config, record, layers, count, tolerance)
    layer = record["gradcam"]["layer"]
    reported = next(row for row in rows if row["layer"] == layer)
    return {
        "layer": layer,
        "pointing_game": {
            "gradcam": reported["pointing"],
            "centre": reported["centre"],
            "frames": reported["frames"],
            "clips": reported["clips"],
            "tolerance_px": tolerance,
        },
        "energy": {key: reported[key] for key in ("energy", "area", "ratio")},
        "layers": rows,
    }


def _layer_rows(model, config, record, layers, count, tolerance):
    """The spatial measures of each layer of the sweep and of the input
    gradient, on the first `count` clips of the results' split."""
    layer = record["gradcam"]["layer"]
    layers = list(layers or layer_sweep.last_per_resolution(model))
    if layer not in layers:
        layers.append(layer)
    sweep = layer_sweep.LayerSweep(
        model,
        layers,
        weighting=record["gradcam"]["weighting"],
        score=record["gradcam"]["score"],
        upsample=record["params"].get("upsample", "linear"),
        normalize=record["params"].get("normalize", "clip"),
    )
    truths, maps = _sweep_maps(sweep, config, record, count)
    rows = []
    for name in [*layers, sweep.INPUT_GRADIENT]:
        heatmaps = dict(enumerate(maps[name]))
        point = spatial.pooled_pointing_game(truths, heatmaps, tolerance)
        energy = spatial.pooled_energy(truths, heatmaps)
        shape = (
            model.get_layer(name).output.shape[2:4]
            if name != sweep.INPUT_GRADIENT
            else None
        )
        rows.append(
            {
                "layer": name,
                "cells": list(shape) if shape else None,
                "pointing": point["gradcam"],
                "centre": point["centre"],
                "energy": energy["energy"],
                "area": energy["area"],
                "ratio": energy["ratio"],
                "frames": point["frames"],
                "clips": len(truths),
            }
        )
    return rows


def _sweep_maps(sweep, config, record, count):
    """`(ground truths, {layer: maps})` of the first `count` clips of the
    split of `record` (an explained clip), read from the dataset; records as
    `explain` writes them, keyed by position."""
    batch_size = config.interp.batch_size
    dataset = pipeline.from_config(
        config.input, record["split"], batch_size=batch_size
    )
    truths, maps, seen = [], {}, 0
    for batch in dataset.take(-(-count // batch_size)):
        batch = {k: v[: count - seen].numpy() for k, v in batch.items()}
        target = (
            batch["label"] if record["params"]["target"] == "true" else None
        )
        for name, value in sweep(batch["frames"], target).items():
            maps.setdefault(name, []).extend(value.numpy())
        truths += [
            {
                "id": seen + i,
                "ground_truth": {
                    key: batch[key][i]
                    for key in ("event", "boxes", "box_valid")
                },
            }
            for i in range(len(batch["label"]))
            if batch["has_ground_truth"][i]
        ]
        seen += len(batch["label"])
    return truths, maps
