"""Writes frames into a video file with PyAV (test fixtures, examples)."""

import os

import av
import numpy as np

from tfvidinterp import errors

# Codec by file extension for `encode`: what each container usually holds
# (SSv2 ships VP9 webm, KTH MPEG-4 avi).
CODECS = {
    ".webm": "libvpx-vp9",
    ".avi": "mpeg4",
    ".mp4": "libx264",
    ".mkv": "ffv1",
}


def encode(
    path: str,
    frames: np.ndarray,
    fps: int = 12,
    codec: str | None = None,
    pix_fmt: str | None = None,
) -> None:
    """Encodes frames into a video file (test fixtures, examples).

    Args:
        path: Output file; its extension picks the container.
        frames: `(frames, height, width, 3)` uint8 RGB, or
            `(frames, height, width)` uint8 grayscale.
        fps: Frame rate.
        codec: FFmpeg encoder name; default from `CODECS` by extension.
        pix_fmt: Stored pixel format; default `gray` for grayscale frames
            (needs a codec that has it, e.g. `ffv1`), else `yuv420p`
            (`yuvj420p` for `mjpeg`).

    Raises:
        errors.InputError: No default codec for the extension.
    """
    extension = os.path.splitext(path)[1].lower()
    if codec is None:
        if extension not in CODECS:
            raise errors.InputError(
                f"No default codec for {extension!r}; known: {sorted(CODECS)}"
            )
        codec = CODECS[extension]
    gray = frames.ndim == 3
    if pix_fmt is None and gray:
        pix_fmt = "gray"
    elif pix_fmt is None:
        pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    with av.open(path, "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = pix_fmt
        # Writes the header now, so that zero frames still make a valid file.
        container.start_encoding()
        for frame in frames:
            image = av.VideoFrame.from_ndarray(
                frame, format="gray" if gray else "rgb24"
            )
            container.mux(stream.encode(image))
        container.mux(stream.encode())
