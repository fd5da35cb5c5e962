"""Generated clips of moving shapes whose class lives only in an event window.

Every clip shows a still background. One or two saturated shapes (rectangle,
ellipse or triangle) appear at the start of the event window `[start, end)`,
move across a large part of the frame and are gone at its end, so all the
evidence of the class lies inside the window and in the objects' boxes.
Reversing the frames of a clip of class `c` gives a clip of class
`OPPOSITE[c]`. With `camera=True` two pan classes are added: no objects, the
view slides over a wider background during the window and stays shifted.

The default look was chosen by ablation (docs/experiments/2026-12-03-synthetic-
redesign.md): a smooth, low-contrast background that no object can be
mistaken for, and no pans. The first version's blob texture (`background=
"texture"`) and pans are kept as options, for that ablation and as a harder
task.
"""

import dataclasses

import cv2
import numpy as np

from tfvidinterp import errors
from tfvidinterp.data import video_ops

CLASSES = (
    "left_to_right",
    "right_to_left",
    "moving_up",
    "moving_down",
    "approaching",
    "separating",
)
PAN_CLASSES = ("pan_left", "pan_right")
OPPOSITE = {
    "left_to_right": "right_to_left",
    "right_to_left": "left_to_right",
    "moving_up": "moving_down",
    "moving_down": "moving_up",
    "approaching": "separating",
    "separating": "approaching",
    "pan_left": "pan_right",
    "pan_right": "pan_left",
}
BACKGROUNDS = ("smooth", "texture")
MAX_OBJECTS = 2

# A class and its opposite share one forward motion; the opposite plays it
# backwards, so both have the same distribution of trajectories.
_REVERSED = ("right_to_left", "moving_up", "separating", "pan_left")
_SHAPES = ("rectangle", "ellipse", "triangle")


def class_names(camera: bool = False) -> tuple:
    """The classes of a dataset, in label order: `CLASSES` (+ the pans)."""
    return CLASSES + PAN_CLASSES if camera else CLASSES


@dataclasses.dataclass(frozen=True)
class Clip:
    """One synthetic clip and its ground truth.

    Attributes:
        frames: (T, H, W, 3) uint8 RGB.
        label: Index into `class_names(camera)`.
        window: (start, end) frame indices of the event, end exclusive.
        boxes: (T, MAX_OBJECTS, 4) float32 normalised (ymin, xmin, ymax, xmax)
            of each object per frame, zeros where absent.
        box_valid: (T, MAX_OBJECTS) bool, True where the object is visible.
    """

    frames: np.ndarray
    label: int
    window: tuple
    boxes: np.ndarray
    box_valid: np.ndarray


def generate_clip(
    seed: int,
    label: int,
    num_frames: int = 16,
    image_size: int | tuple = 64,
    *,
    background: str = "smooth",
    camera: bool = False,
) -> Clip:
    """Generates one clip, deterministic from `seed`.

    The event window lasts between about T/4 and T/2 frames (4 to 8 of 16)
    and starts anywhere in the clip. Objects are 16-25 % of the frame's side
    (10-16 px at 64x64).

    Args:
        seed: Seed of `np.random.default_rng`.
        label: Class index into `class_names(camera)`.
        num_frames: T, at least 4.
        image_size: Frame size, an int (square) or (height, width), each at
            least 16.
        background: "smooth" (low contrast, the default) or "texture" (grey
            blobs about 1/8 of the frame, as bright and as large as the
            objects: the first version's).
        camera: Whether the dataset has the pan classes.

    Returns:
        A `Clip`.

    Raises:
        errors.InputError: On an unknown label or background, T < 4 or a
            frame under 16 px.
    """
    names = class_names(camera)
    _check_args(names, label, background, num_frames)
    height, width = _frame_size(image_size)
    rng = np.random.default_rng(seed)
    # The pixel noise has its own stream: the main one then draws the same
    # numbers at every frame size, so a seed is one scene (class, window,
    # shapes, colours, paths, background) at 32x32 and at 64x64 alike.
    noise = np.random.default_rng((seed, 1))
    window = _event_window(rng, num_frames)
    name = names[label]
    if name in PAN_CLASSES:
        frames = _pan(
            rng, noise, background, name, num_frames, height, width, window
        )
        return Clip(frames, label, window, *_no_boxes(num_frames))
    still = _BACKGROUNDS[background](rng, noise, height, width)
    frames = np.repeat(still[None], num_frames, axis=0)
    boxes, valid = _no_boxes(num_frames)
    for i, (mask, colour, first, last) in enumerate(
        _objects(rng, name, height, width)
    ):
        corners = _path(first, last, window, reverse=name in _REVERSED)
        _paint(frames, boxes[:, i], valid[:, i], mask, colour, corners, window)
    return Clip(frames, label, window, boxes, valid)


def _check_args(names, label, background, num_frames):
    """Raises `errors.InputError` for a clip that cannot be generated."""
    if not 0 <= label < len(names):
        raise errors.InputError(f"Unknown synthetic label {label}.")
    if background not in BACKGROUNDS:
        raise errors.InputError(
            f"Unknown synthetic background {background!r}; one of "
            f"{', '.join(BACKGROUNDS)}."
        )
    if num_frames < 4:
        raise errors.InputError(f"num_frames must be >= 4, got {num_frames}.")


def _frame_size(image_size):
    """Returns (height, width) of an int or pair `image_size`.

    Raises:
        errors.InputError: A side under 16 px.
    """
    height, width = video_ops.height_width(image_size)
    if min(height, width) < 16:
        raise errors.InputError(f"image_size must be >= 16, got {image_size}.")
    return height, width


def _event_window(rng, num_frames):
    """Draws the event window (start, end), end exclusive.

    It lasts between about T/4 and T/2 frames, at least 2, and starts
    anywhere it fits.
    """
    shortest = max(2, round(num_frames / 4))
    length = int(rng.integers(shortest, max(shortest, num_frames // 2) + 1))
    start = int(rng.integers(0, num_frames - length + 1))
    return (start, start + length)


def _no_boxes(num_frames):
    """Returns a clip's ground truth without objects.

    That is zero boxes `(T, MAX_OBJECTS, 4)` float32 and `box_valid`
    `(T, MAX_OBJECTS)` bool all False; objects fill their slots in.
    """
    boxes = np.zeros((num_frames, MAX_OBJECTS, 4), np.float32)
    valid = np.zeros((num_frames, MAX_OBJECTS), bool)
    return boxes, valid


def _path(first, last, window, reverse):
    """Returns an object's top-left corners over the event window.

    The object moves evenly from `first` to `last` (both (y, x)), or back
    from `last` to `first` if `reverse` (a class in `_REVERSED`).

    Returns:
        `(end - start, 2)` int (y, x) corners, one per window frame.
    """
    progress = np.linspace(0.0, 1.0, window[1] - window[0])
    if reverse:
        progress = progress[::-1]
    return np.rint(first + progress[:, None] * (last - first)).astype(int)


def _paint(frames, boxes, valid, mask, colour, corners, window):
    """Paints one object into the window's frames, in place.

    Args:
        frames: `(T, H, W, 3)` uint8 clip, changed in place.
        boxes: `(T, 4)` float32 view of the object's slot in the clip's
            boxes; gets its normalised (ymin, xmin, ymax, xmax) per frame.
        valid: `(T,)` bool view of the object's slot in `box_valid`.
        mask: The object's `(h, w)` bool shape.
        colour: Its `(3,)` uint8 RGB colour.
        corners: `(end - start, 2)` top-left corners, from `_path`.
        window: (start, end) of the event.
    """
    height, width = frames.shape[1:3]
    for t, (y, x) in zip(range(*window), corners):
        patch = frames[t, y : y + mask.shape[0], x : x + mask.shape[1]]
        patch[mask] = colour
        boxes[t] = (
            y / height,
            x / width,
            (y + mask.shape[0]) / height,
            (x + mask.shape[1]) / width,
        )
        valid[t] = True


def _smooth(rng, noise, height, width):
    """A (height, width, 3) uint8 background: a grey level, a gentle 4x4
    cubic undulation of +-12 levels, a faint tint and grain."""
    level = rng.uniform(90.0, 160.0)
    coarse = rng.uniform(-12.0, 12.0, (4, 4))
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    tint = rng.uniform(-8.0, 8.0, 3)
    grain = noise.normal(0.0, 3.0, (height, width, 3))
    return np.clip(level + smooth[..., None] + tint + grain, 0, 255).astype(
        np.uint8
    )


def _texture(rng, noise, height, width):
    """A (height, width, 3) uint8 grey texture of blobs about 1/8 frame."""
    cell = max(2, min(height, width) // 8)
    coarse = rng.uniform(70.0, 185.0, (height // cell + 2, width // cell + 2))
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    tint = rng.uniform(-15.0, 15.0, 3)
    grain = noise.normal(0.0, 6.0, (height, width, 3))
    texture = smooth[..., None] + tint + grain
    return np.clip(texture, 0, 255).astype(np.uint8)


_BACKGROUNDS = {"smooth": _smooth, "texture": _texture}


def _pan(rng, noise, background, name, num_frames, height, width, window):
    """Frames of a view sliding over a wider background during `window`."""
    # A fraction, not an integer range, keeps the stream size-independent.
    shift = round(width * rng.uniform(0.25, 0.5))
    wide = _BACKGROUNDS[background](rng, noise, height, width + width // 2)
    start, end = window
    # The view moves in every window frame and rests after it.
    steps = np.clip((np.arange(num_frames) - start + 1) / (end - start), 0, 1)
    if name in _REVERSED:
        steps = 1.0 - steps
    offsets = np.rint(steps * shift).astype(int)
    columns = offsets[:, None] + np.arange(width)
    return wide[:, columns].transpose(1, 0, 2, 3)


def _objects(rng, name, height, width):
    """Yields (mask, colour, first, last) per object for a forward motion.

    `first` and `last` are the (y, x) top-left corners at the start and end
    of the forward motion; every position in between stays inside the frame.
    """
    count = 2 if name in ("approaching", "separating") else rng.integers(1, 3)
    masks = [_shape_mask(rng, height, width) for _ in range(count)]
    if name in ("approaching", "separating"):
        centre = width * rng.uniform(0.45, 0.55)
        gap = width * rng.uniform(0.0, 0.06)
        (h0, w0), (h1, w1) = masks[0].shape, masks[1].shape
        y0, y1 = rng.uniform(0, height - h0), rng.uniform(0, height - h1)
        x0 = width * rng.uniform(0.0, 0.03)
        x1 = width - w1 - width * rng.uniform(0.0, 0.03)
        firsts = [(y0, x0), (y1, x1)]
        lasts = [(y0, centre - gap / 2 - w0), (y1, centre + gap / 2)]
    else:
        axis = 0 if name in ("moving_up", "moving_down") else 1
        size = (height, width)
        firsts, lasts = [], []
        for i, mask in enumerate(masks):
            # Two objects move in separate bands across the motion.
            band = size[1 - axis] / count
            across = i * band + rng.uniform(0, band - mask.shape[1 - axis])
            travel = size[axis] * rng.uniform(0.4, 0.6)
            along = rng.uniform(0, size[axis] - mask.shape[axis] - travel)
            first, last = [across, across], [across, across]
            first[axis], last[axis] = along, along + travel
            firsts.append(first)
            lasts.append(last)
    for mask, first, last in zip(masks, firsts, lasts):
        yield mask, _colour(rng), np.array(first), np.array(last)


def _shape_mask(rng, height, width):
    """A random shape's bool mask, cropped to its tight bounding box."""
    h = max(2, round(height * rng.uniform(0.16, 0.25)))
    w = max(2, round(width * rng.uniform(0.16, 0.25)))
    y = (np.arange(h)[:, None] + 0.5) / h
    x = (np.arange(w)[None, :] + 0.5) / w
    shape = _SHAPES[rng.integers(len(_SHAPES))]
    if shape == "rectangle":
        mask = np.ones((h, w), bool)
    elif shape == "ellipse":
        mask = (2 * y - 1) ** 2 + (2 * x - 1) ** 2 <= 1.0
    else:
        mask = np.abs(2 * x - 1) <= y
        if rng.integers(2):
            mask = mask[::-1]
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _colour(rng):
    """A saturated RGB colour: one channel near 0, one near full."""
    hue = rng.uniform(0.0, 6.0)
    rgb = np.clip(np.abs((hue + np.array([0.0, 4.0, 2.0])) % 6 - 3) - 1, 0, 1)
    return np.rint(rgb * 255 * rng.uniform(0.85, 1.0)).astype(np.uint8)
