"""Animated GIFs of explained clips: original | Grad-CAM | freeze-perturbed.

As the paper's Figs. 2-3: the third panel plays the clip with the binary
freeze mask applied, above a timeline with one cell per frame (red: mask on,
green: off; the current frame brighter and underlined), and the scores below
(OS, FS, RS; the true class's score and the prediction when it is wrong).
Each model that explained the clip gets one such row.
"""

import io

import cv2
import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

GAP = 2  # Pixels between panels and between the parts of a row.
ON, OFF = (1, 0, 0), (0, 1, 0)  # Timeline colours: red, green.
CURRENT, OTHER = 255, 150  # Timeline intensity of the current/other frames.
_FONT_SIZE = 13
_LINE = _FONT_SIZE + 4


def freeze_frames(frames: np.ndarray, binary_mask) -> np.ndarray:
    """The freeze perturbation with a 0/1 mask, in NumPy.

    `y_0 = x_0`, and `y_t = y_{t-1}` where `m_t = 1`, else `x_t`: the same
    recurrence as `tfvidinterp.interp.perturbation.freeze`, without TF.

    Args:
        frames: `(frames, height, width, 3)`.
        binary_mask: `(frames,)` 0/1.

    Returns:
        The perturbed frames, shaped and typed as `frames`.
    """
    mask = np.asarray(binary_mask) > 0
    steps = np.arange(len(mask))
    source = np.maximum.accumulate(np.where(mask & (steps > 0), 0, steps))
    return np.asarray(frames)[source]


def overlay(frames: np.ndarray, heatmaps: np.ndarray, alpha=0.5):
    """Blends the JET-coloured maps onto the frames.

    Args:
        frames: `(frames, height, width, 3)` uint8 RGB.
        heatmaps: `(frames, h, w)` float in [0, 1]; resized to the frames.
        alpha: Weight of the colour map.

    Returns:
        `(frames, height, width, 3)` uint8 RGB.
    """
    height, width = frames.shape[1:3]
    out = []
    for frame, heat in zip(frames, np.asarray(heatmaps, np.float32)):
        if heat.shape != (height, width):
            heat = cv2.resize(heat, (width, height))
        heat = np.round(np.clip(heat, 0, 1) * 255).astype(np.uint8)
        jet = cv2.cvtColor(
            cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB
        )
        out.append((1 - alpha) * frame + alpha * jet)
    return np.round(np.stack(out)).astype(np.uint8)


def timeline(binary_mask, current: int, width: int, height: int):
    """The mask's timeline bar for one frame.

    Args:
        binary_mask: `(frames,)` 0/1.
        current: Index of the frame shown.
        width: Bar width in pixels (at least 2 per frame).
        height: Bar height in pixels; its last 3 rows are a gap and a
            2-pixel white underline under the current frame's cell.

    Returns:
        `(height, width, 3)` uint8 RGB; frame t's cell spans
        `cell_edges(frames, width)[t:t + 2]`, 1 pixel apart.
    """
    bar = np.zeros((height, width, 3), np.uint8)
    edges = cell_edges(len(binary_mask), width)
    for t, on in enumerate(np.asarray(binary_mask) > 0):
        value = CURRENT if t == current else OTHER
        colour = np.array(ON if on else OFF) * value
        bar[: height - 3, edges[t] : edges[t + 1] - 1] = colour
    bar[height - 2 :, edges[current] : edges[current + 1] - 1] = 255
    return bar


def cell_edges(frames: int, width: int) -> np.ndarray:
    """Pixel edges `(frames + 1,)` of the timeline's cells."""
    return np.round(np.linspace(0, width, frames + 1)).astype(int)


def caption(record: dict, classes) -> str:
    """The scores line of a results record (see the results schema).

    Returns:
        E.g. "OS 0.93 FS 0.12 RS 0.55", plus "true 0.40 pred: <class>" when
        the prediction differs from the label.
    """
    mask = record["mask"]
    text = (
        f"OS {record['original_score']:.2f} "
        f"FS {mask['freeze_score']:.2f} RS {mask['reverse_score']:.2f}"
    )
    label, predicted = record.get("label"), record["predicted_class"]
    if label is not None and predicted != label:
        true_score = record.get("true_class_score")
        if true_score is not None:
            text += f"  true {true_score:.2f}"
        text += f"  pred: {class_name(classes, predicted)}"
    return text


def row_frames(frames, heatmaps, binary_mask, lines, scale=1):
    """The frames of one model's row.

    Args:
        frames: `(frames, height, width, 3)` uint8 RGB clip.
        heatmaps: `(frames, height, width)` Grad-CAM maps in [0, 1].
        binary_mask: `(frames,)` 0/1 freeze mask.
        lines: Text lines written under the panels.
        scale: Integer enlargement of the frames (nearest neighbour).

    Returns:
        `(frames, row_height, 3 * scale * width + 2 * GAP, 3)` uint8.
    """
    frames = np.asarray(frames, np.uint8)
    panels = [
        frames,
        overlay(frames, heatmaps),
        freeze_frames(frames, binary_mask),
    ]
    panels = [p.repeat(scale, axis=1).repeat(scale, axis=2) for p in panels]
    count, height, width = panels[0].shape[:3]
    bar_height = max(8, height // 12)
    total = 3 * width + 2 * GAP
    rows = np.zeros(
        (count, height + 2 * GAP + bar_height + _LINE * len(lines), total, 3),
        np.uint8,
    )
    for i, panel in enumerate(panels):
        rows[:, :height, i * (width + GAP) : i * (width + GAP) + width] = panel
    text = _text(lines, total, _LINE * len(lines))
    for t in range(count):
        rows[t, height + GAP : height + GAP + bar_height, total - width :] = (
            timeline(binary_mask, t, width, bar_height)
        )
        rows[t, height + 2 * GAP + bar_height :] = text
    return rows


def encode(frames: np.ndarray, fps=4.0) -> bytes:
    """Encodes `(frames, height, width, 3)` uint8 as a looping GIF's bytes."""
    images = [Image.fromarray(f) for f in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=int(1000 / fps),
        loop=0,
    )
    return buffer.getvalue()


def stack_rows(rows) -> np.ndarray:
    """Stacks models' rows (each `(frames, h, w, 3)`) one under another.

    Narrower rows are padded; a shorter clip holds its last frame.

    Returns:
        `(max frames, sum of h + GAP between rows, max w, 3)` uint8.
    """
    count = max(len(r) for r in rows)
    width = max(r.shape[2] for r in rows)
    parts = []
    for row in rows:
        row = row[np.minimum(np.arange(count), len(row) - 1)]
        pad = ((0, 0), (0, GAP), (0, width - row.shape[2]), (0, 0))
        parts.append(np.pad(row, pad))
    return np.concatenate(parts, axis=1)[:, :-GAP]


def _text(lines, width, height):
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=_FONT_SIZE)
    for i, line in enumerate(lines):
        draw.text((2, i * _LINE + 1), line, fill=(255, 255, 255), font=font)
    return np.asarray(image)


def class_name(classes, index: int) -> str:
    """`classes[index]`, or the index as text when there is no such name."""
    if classes and 0 <= index < len(classes):
        return classes[index]
    return str(index)
