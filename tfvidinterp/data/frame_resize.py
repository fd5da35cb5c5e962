"""Frames turned upright and resized as `video_io` reads them: quarter
turns, the size with a given shorter side, and OpenCV resizing (area
averaging to shrink, linear to enlarge)."""

import cv2
import numpy as np


def upright(rgb, degrees):
    """Turns a frame counter-clockwise by `degrees`, in quarter turns."""
    quarters = round(degrees / 90) % 4
    if not quarters:
        return rgb
    return np.ascontiguousarray(np.rot90(rgb, quarters))


def short_side_size(size, short_side):
    """`(height, width)` with the shorter side `short_side` (None: same)."""
    if short_side is None:
        return tuple(size)
    scale = short_side / min(size)
    return tuple(max(1, round(side * scale)) for side in size)


def resize(rgb, size):
    """Resizes one `(height, width, 3)` frame to `size`, `(height, width)`."""
    if rgb.shape[:2] == size:
        return rgb
    # INTER_AREA averages when shrinking; it would replicate pixels when
    # enlarging, where linear interpolation looks better.
    shrink = rgb.shape[0] * rgb.shape[1] > size[0] * size[1]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(rgb, size[::-1], interpolation=interpolation)


def resize_short_side(frames: np.ndarray, short_side: int) -> np.ndarray:
    """Resizes frames so the shorter side is `short_side`, keeping the aspect.

    Args:
        frames: `(height, width, 3)` or `(frames, height, width, 3)` uint8.
        short_side: Target length of the shorter side, in pixels.

    Returns:
        The resized frames, same rank and dtype; the longer side is rounded
        to the nearest pixel.
    """
    if frames.ndim == 4:
        return np.stack([resize_short_side(f, short_side) for f in frames])
    return resize(frames, short_side_size(frames.shape[:2], short_side))
