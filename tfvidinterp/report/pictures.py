"""Pictures of one explained clip for papers and slides: GIF, MP4, PNG.

`save_explanation` writes the clip with its Grad-CAM maps blended in and its
temporal mask drawn under the frames:

    from tfvidinterp.jobs import resultsdir
    from tfvidinterp.report import save_explanation

    results = resultsdir.load_results("runs/x/explain/videos")
    record = results["records"][0]
    clip = resultsdir.read_gradcam(results["dir"], record)
    save_explanation("figures/clip", clip["frames"], clip["heatmaps"],
                     record["mask"]["mask"])
    # figures/clip.gif, figures/clip.mp4, figures/clip.png
"""

import fractions
import io

import cv2
import numpy as np
from PIL import Image

from tfvidinterp import errors
from tfvidinterp import files
from tfvidinterp.data import video_io
from tfvidinterp.report import gif

FORMATS = ("gif", "mp4", "png")
GAP = 2  # Pixels between the frames of the strip and above the mask bars.
ON, OFF = (255, 0, 0), (0, 200, 0)  # Bars of mask values >= 0.5, < 0.5.


def save_explanation(
    path_prefix: str,
    frames,
    heatmaps,
    mask,
    *,
    formats=FORMATS,
    alpha: float = 0.5,
    fps: float = 4.0,
    strip_frames: int = 8,
) -> dict:
    """Writes a clip with its Grad-CAM overlay and temporal mask.

    The GIF and the MP4 play the blended frames (`blend`) above the mask's
    bars (`mask_bars`, the shown frame underlined); the PNG filmstrip is a
    row of `strip_frames` blended frames spread over the clip, above the
    bars of every frame. The MP4 (H.264, yuv420p) is padded with black to
    even sides, as the codec needs. Files are written atomically.

    Args:
        path_prefix: Output path without extension; ".gif", ".mp4" and
            ".png" are added. Its folder is created.
        frames: `(T, H, W, 3)` uint8 RGB, the clip.
        heatmaps: `(T, h, w)` Grad-CAM maps in [0, 1], resized to the
            frames if `(h, w) != (H, W)`.
        mask: `(T,)` temporal mask values in [0, 1].
        formats: Any of "gif", "mp4", "png".
        alpha: The colour map's weight where a map is 1, in [0, 1].
        fps: Frames per second of the GIF and the MP4.
        strip_frames: Frames in the filmstrip (at most T are shown).

    Returns:
        `{format: path written}`.

    Raises:
        errors.InputError: Arrays of the wrong shape, type or range, an
            unknown format or an option out of range.
    """
    frames, heatmaps, mask = _check(frames, heatmaps, mask, formats)
    _check_options(alpha, fps, strip_frames)
    blended = blend(frames, heatmaps, alpha)
    written = {}
    for name in dict.fromkeys(formats):
        path = f"{path_prefix}.{name}"
        if name == "png":
            data = _png(filmstrip(blended, mask, strip_frames))
            files.write_atomic(path, data, "wb")
        elif name == "gif":
            data = gif.encode(animation(blended, mask), fps)
            files.write_atomic(path, data, "wb")
        else:
            video = _even(animation(blended, mask))
            rate = fractions.Fraction(fps).limit_denominator(1001)
            files.save_atomic(path, lambda p: video_io.encode(p, video, rate))
        written[name] = path
    return written


def blend(frames: np.ndarray, heatmaps: np.ndarray, alpha=0.5) -> np.ndarray:
    """Blends the JET-coloured maps onto the frames, more where they are
    higher: `(1 - alpha * m) * frame + alpha * m * jet(m)` per pixel, so
    where a map is 0 the frame is unchanged.

    Args:
        frames: `(T, H, W, 3)` uint8 RGB.
        heatmaps: `(T, h, w)` float in [0, 1]; resized to `(H, W)`.
        alpha: The colour map's weight where a map is 1.

    Returns:
        `(T, H, W, 3)` uint8 RGB, rounded.
    """
    height, width = frames.shape[1:3]
    out = []
    for frame, heat in zip(frames, np.asarray(heatmaps, np.float32)):
        if heat.shape != (height, width):
            heat = cv2.resize(heat, (width, height))
        heat = np.clip(heat, 0, 1)
        level = np.round(heat * 255).astype(np.uint8)
        jet = cv2.cvtColor(
            cv2.applyColorMap(level, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB
        )
        weight = alpha * heat[..., None]
        out.append((1 - weight) * frame + weight * jet)
    return np.round(np.stack(out)).astype(np.uint8)


def mask_bars(mask, width: int, height: int, current=None) -> np.ndarray:
    """The temporal mask as bars, one cell per frame.

    Frame t's cell spans columns `edges[t]:edges[t + 1] - 1`, edges
    `round(linspace(0, width, T + 1))`; its bar rises `round(mask[t] *
    (height - 3))` rows from the bottom of the first `height - 3` rows, red
    where the value is >= 0.5, else green. The last 2 rows underline the
    `current` frame's cell in white.

    Returns:
        `(height, width, 3)` uint8 RGB, black elsewhere.
    """
    bars = np.zeros((height, width, 3), np.uint8)
    edges = np.round(np.linspace(0, width, len(mask) + 1)).astype(int)
    top = height - 3
    for t, value in enumerate(mask):
        rise = int(round(value * top))
        colour = ON if value >= 0.5 else OFF
        bars[top - rise : top, edges[t] : edges[t + 1] - 1] = colour
    if current is not None:
        bars[height - 2 :, edges[current] : edges[current + 1] - 1] = 255
    return bars


def animation(blended: np.ndarray, mask) -> np.ndarray:
    """The frames of the GIF: each blended frame above the mask's bars,
    `max(8, H // 4)` rows high, with that frame underlined.

    Returns:
        `(T, H + GAP + bar rows, W, 3)` uint8.
    """
    count, height, width = blended.shape[:3]
    bar_height = max(8, height // 4)
    out = np.zeros((count, height + GAP + bar_height, width, 3), np.uint8)
    out[:, :height] = blended
    for t in range(count):
        out[t, height + GAP :] = mask_bars(mask, width, bar_height, t)
    return out


def filmstrip(blended: np.ndarray, mask, count: int = 8) -> np.ndarray:
    """A row of `min(count, T)` blended frames spread evenly over the clip
    (the first and the last among them), GAP pixels apart, above the bars
    of the whole mask (`max(8, H // 4)` rows).

    Returns:
        `(H + GAP + bar rows, k * W + (k - 1) * GAP, 3)` uint8.
    """
    total, height, width = blended.shape[:3]
    picks = np.round(np.linspace(0, total - 1, min(count, total))).astype(int)
    strip_width = len(picks) * (width + GAP) - GAP
    bar_height = max(8, height // 4)
    strip = np.zeros((height + GAP + bar_height, strip_width, 3), np.uint8)
    for i, t in enumerate(picks):
        strip[:height, i * (width + GAP) : i * (width + GAP) + width] = blended[
            t
        ]
    strip[height + GAP :] = mask_bars(mask, strip_width, bar_height)
    return strip


def _check(frames, heatmaps, mask, formats):
    frames = np.asarray(frames)
    heatmaps = np.asarray(heatmaps, np.float32)
    mask = np.asarray(mask, np.float32)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise errors.InputError(
            "frames must be (T, H, W, 3) uint8 RGB, got "
            f"{frames.dtype} {frames.shape}"
        )
    count = len(frames)
    if count == 0 or heatmaps.ndim != 3 or len(heatmaps) != count:
        raise errors.InputError(
            f"heatmaps must be (T, h, w) for the {count} frames, got "
            f"{heatmaps.shape}"
        )
    if mask.shape != (count,):
        raise errors.InputError(
            f"mask must be ({count},) for the {count} frames, got {mask.shape}"
        )
    for name, values in (("heatmaps", heatmaps), ("mask", mask)):
        # `not` also catches NaN.
        if not np.all((values >= 0) & (values <= 1)):
            raise errors.InputError(f"{name} must lie in [0, 1]")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise errors.InputError(
            f"unknown formats {unknown or formats!r}; known: {FORMATS}"
        )
    return frames, heatmaps, mask


def _check_options(alpha, fps, strip_frames):
    if not 0 <= alpha <= 1:
        raise errors.InputError(f"alpha must lie in [0, 1], got {alpha}")
    if not fps > 0:
        raise errors.InputError(f"fps must be > 0, got {fps}")
    if strip_frames < 1:
        raise errors.InputError(
            f"strip_frames must be >= 1, got {strip_frames}"
        )


def _even(frames):
    """`frames` padded with black rows and columns to even sides."""
    height, width = frames.shape[1:3]
    pad = ((0, 0), (0, height % 2), (0, width % 2), (0, 0))
    return np.pad(frames, pad)


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
