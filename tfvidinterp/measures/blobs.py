"""Blob statistics of Grad-CAM maps: count, size and distance to the centre.

A blob is a contiguous bright patch of one frame's map (paper §4.3), found by
OpenCV's `SimpleBlobDetector` on the map scaled to 0-255. Its keypoint size is
twice the median distance from the blob's centroid to its outline's pixel
centres: about 2r - 1 for a disc of radius r.
"""

import cv2
import numpy as np

from tfvidinterp import errors


def make_detector(params: dict):
    """Builds a `cv2.SimpleBlobDetector` from OpenCV parameter names.

    Args:
        params: `{name: value}` over the fields of
            `cv2.SimpleBlobDetector_Params` (e.g. `minThreshold`).

    Returns:
        The detector.

    Raises:
        errors.InputError: For a name that is not a detector parameter.
    """
    options = cv2.SimpleBlobDetector_Params()
    for name, value in params.items():
        if name.startswith("_") or not hasattr(options, name):
            raise errors.InputError(f"unknown blob detector parameter {name!r}")
        setattr(options, name, type(getattr(options, name))(value))
    return cv2.SimpleBlobDetector_create(options)


def detect(heatmap: np.ndarray, detector) -> np.ndarray:
    """Finds the blobs of one frame's map.

    Args:
        heatmap: `(height, width)` float in [0, 1].
        detector: From `make_detector`.

    Returns:
        `(blobs, 3)` float: x, y (pixels, from the top-left pixel's centre)
        and diameter (pixels) of each blob.
    """
    image = np.round(np.clip(heatmap, 0.0, 1.0) * 255.0).astype(np.uint8)
    keypoints = detector.detect(image)
    return np.array(
        [(k.pt[0], k.pt[1], k.size) for k in keypoints], np.float64
    ).reshape(-1, 3)


def clip_statistics(heatmaps: np.ndarray, detector) -> dict:
    """The paper's blob measures of one clip.

    Args:
        heatmaps: `(frames, height, width)` float in [0, 1], at the input's
            resolution.
        detector: From `make_detector`.

    Returns:
        `{"blob_count", "blob_size", "center_distance", "num_blobs"}`: blobs
        per frame averaged over frames; mean diameter and mean distance from
        a blob's centre to the frame's centre, both in pixels over all of the
        clip's blobs, and NaN when the clip has none; the number of blobs.
    """
    heatmaps = np.asarray(heatmaps, np.float32)
    height, width = heatmaps.shape[1:3]
    blobs = [detect(frame, detector) for frame in heatmaps]
    every = np.concatenate(blobs)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    distances = np.linalg.norm(every[:, :2] - centre, axis=1)
    empty = len(every) == 0
    return {
        "blob_count": float(np.mean([len(b) for b in blobs])),
        "blob_size": float("nan") if empty else float(every[:, 2].mean()),
        "center_distance": float("nan") if empty else float(distances.mean()),
        "num_blobs": int(len(every)),
    }
