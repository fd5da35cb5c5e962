"""Reads and writes video files with PyAV (FFmpeg bundled in the wheel)."""

import contextlib
import os

import av
import cv2
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


class DecodeError(errors.InputError):
    """A file that is not a complete, readable video.

    Attributes:
        path: The file.
        reason: One line saying what is wrong, without the path.
    """

    def __init__(self, path, reason):
        super().__init__(f"Cannot decode {path}: {reason}")
        self.path = path
        self.reason = reason


def decode(
    path: str, max_frames: int | None = None, short_side: int | None = None
) -> np.ndarray:
    """Decodes every frame of a video to RGB.

    Any pixel format (grayscale, 10-bit, odd sizes) is converted to RGB. The
    whole file is decoded before `max_frames` picks frames, because a
    container's frame count is often missing (webm) or wrong; `short_side`
    resizes each frame as it is decoded, so memory holds only small frames.

    A file FFmpeg reports an error for (a damaged packet, a file that ends
    early) is rejected rather than cut short: a partly readable file is
    usually an incomplete download, and its first frames alone may not show
    the labelled action.

    Args:
        path: A video file (any container and codec FFmpeg reads).
        max_frames: If set, keep at most this many frames, spread uniformly
            over the video (see `spread_indices`).
        short_side: If set, resize so the shorter side has this many pixels,
            keeping the aspect ratio.

    Returns:
        `(frames, height, width, 3)` uint8 RGB, at least one frame.

    Not thread-safe: it switches FFmpeg's process-wide logging on while it
    runs. Decode in parallel with processes.

    Raises:
        DecodeError: The file is missing, is not a video, is truncated or
            corrupt, or has no frames.
    """
    if not os.path.isfile(path):
        raise DecodeError(path, "no such file")
    failure = None
    with _ffmpeg_errors() as messages:
        try:
            frames = _read_frames(path, short_side)
        except av.FFmpegError as error:
            failure = error.strerror
    if failure:
        detail = f" ({messages[0]})" if messages else ""
        raise DecodeError(path, f"not a readable video: {failure}{detail}")
    if messages:
        raise DecodeError(path, f"corrupt or truncated ({messages[0]})")
    if not frames:
        raise DecodeError(path, "the video has no frames")
    frames = np.stack(frames)
    return frames[spread_indices(len(frames), max_frames)]


@contextlib.contextmanager
def _ffmpeg_errors():
    """Collects the error messages FFmpeg logs while the block runs.

    PyAV silences FFmpeg by default; its error messages are how a truncated
    file shows (the demuxer stops early without raising). FFmpeg's logging
    is process-wide, hence `decode` is not thread-safe; the previous
    settings are restored on exit.

    Yields:
        A list, filled on exit, of the messages at level ERROR or worse,
        each on one line.
    """
    previous = av.logging.get_level(), av.logging.get_skip_repeated()
    # With repeats collapsed, a repeat of the last file's message would be
    # reported during this one.
    av.logging.set_level(av.logging.ERROR)
    av.logging.set_skip_repeated(False)
    messages = []
    try:
        with av.logging.Capture(local=False) as logs:
            yield messages
    finally:
        av.logging.set_level(previous[0])
        av.logging.set_skip_repeated(previous[1])
    messages += [
        " ".join(message.split())
        for level, _, message in logs
        if level <= av.logging.ERROR
    ]


def _read_frames(path, short_side):
    with av.open(path) as container:
        if not container.streams.video:
            raise DecodeError(path, "no video stream")
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        return [_to_rgb(frame, short_side) for frame in decoded]


def _to_rgb(frame, short_side):
    rgb = frame.to_ndarray(format="rgb24")
    return rgb if short_side is None else resize_short_side(rgb, short_side)


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
    height, width = frames.shape[:2]
    scale = short_side / min(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return frames
    # INTER_AREA averages when shrinking; it would replicate pixels when
    # enlarging, where linear interpolation looks better.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(frames, size, interpolation=interpolation)


def spread_indices(num_frames: int, max_frames: int | None) -> np.ndarray:
    """Indices of at most `max_frames` frames spread uniformly over a clip.

    The clip is cut into `max_frames` equal segments and the middle frame of
    each is kept, so the picks are distinct, in order, and cover the clip.

    Args:
        num_frames: Length of the clip.
        max_frames: The cap, or None for no cap.

    Returns:
        `(min(num_frames, max_frames),)` int64, increasing.
    """
    if max_frames is None or max_frames >= num_frames:
        return np.arange(num_frames)
    if max_frames < 1:
        raise errors.InputError(f"max_frames must be >= 1, got {max_frames}")
    return ((np.arange(max_frames) + 0.5) * num_frames / max_frames).astype(
        np.int64
    )


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
