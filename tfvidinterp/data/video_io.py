"""Reads and writes video files with PyAV (FFmpeg bundled in the wheel).

Reading is here; frames are turned and resized by `frame_resize`, and
written by `video_encode`.
"""

import contextlib
import dataclasses
import math
import os

import av
import numpy as np

from tfvidinterp import errors
from tfvidinterp.data import frame_resize
from tfvidinterp.data import video_encode

# Names callers use from here.
encode = video_encode.encode
resize_short_side = frame_resize.resize_short_side


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


@dataclasses.dataclass(frozen=True)
class Video:
    """Frames read from a video file by `read`.

    Attributes:
        frames: `(kept, height, width, 3)` uint8 RGB, upright, one size.
        num_frames: Frames of the video, or of its `frame_range`, before
            `max_frames` picked some.
    """

    frames: np.ndarray
    num_frames: int


def decode(
    path: str, max_frames: int | None = None, short_side: int | None = None
) -> np.ndarray:
    """Decodes a video to upright RGB frames of one size: `read(...).frames`.

    Frames are turned by the stream's rotation, and frames whose size
    differs from the first kept frame's (a stream whose size changes
    part-way) are resized to it. With `max_frames`, memory holds only the
    kept frames, however long the video (see `read`).

    Args:
        path: A video file (any container and codec FFmpeg reads).
        max_frames: If set, keep at most this many frames, spread uniformly
            over the video (see `spread_indices`).
        short_side: If set, resize so the shorter side has this many pixels,
            keeping the aspect ratio.

    Returns:
        `(frames, height, width, 3)` uint8 RGB, at least one frame.

    Raises:
        DecodeError: See `read`.
    """
    return read(path, max_frames, short_side).frames


def read(
    path: str,
    max_frames: int | None = None,
    short_side: int | None = None,
    frame_range: tuple | None = None,
) -> Video:
    """Decodes a video to RGB, keeping only the frames it returns.

    Memory does not grow with the video's length: with `max_frames`, the
    frames are counted first (from packets, without decoding), then only
    the picked ones are kept, each resized as it comes. Should the count
    prove wrong (a packet without a frame), it decodes again.

    Any pixel format (grayscale, 10-bit, odd sizes) is converted to RGB.
    Frames are turned upright by the stream's rotation (a display matrix,
    as phones write, or an old-style `rotate` tag; flips are ignored). A
    stream whose frame size changes part-way (clips joined by a camera or
    an editor) gives every frame the size of the first kept one: the
    others are resized to it, whatever their aspect ratio.

    A file FFmpeg reports an error for (a damaged packet, a file that ends
    early) is rejected rather than cut short: a partly readable file is
    usually an incomplete download, and its first frames alone may not show
    the labelled action.

    Not thread-safe: it switches FFmpeg's process-wide logging on while it
    runs. Decode in parallel with processes.

    Args:
        path: A video file (any container and codec FFmpeg reads).
        max_frames: If set, keep at most this many frames, spread uniformly
            over the video or its range (see `spread_indices`).
        short_side: If set, resize so the shorter side has this many pixels,
            keeping the aspect ratio (of the first kept frame).
        frame_range: `(first, last)` frame numbers, 1-based and inclusive
            (as KTH's `00sequences.txt` numbers them): read only these; a
            range past the video's end is cut at its last frame.

    Returns:
        A `Video`; its `frames` hold at least one frame.

    Raises:
        DecodeError: The file is missing, is not a video, is truncated or
            corrupt, has no frames, or ends before `frame_range` starts.
        errors.InputError: A `frame_range` that holds no frame, or
            `max_frames` < 1.
    """
    _check_request(max_frames, frame_range)
    frames, count = _read_checked(path, max_frames, short_side, frame_range)
    start, stop = _span(count, frame_range)
    if start >= stop:
        raise DecodeError(
            path,
            f"frame range {frame_range[0]}-{frame_range[1]} starts after "
            f"the last of its {count} frames",
        )
    return Video(np.stack(frames), stop - start)


def _read_checked(path, max_frames, short_side, frame_range):
    """`_read_frames`, with what FFmpeg reports as `DecodeError`s."""
    if not os.path.isfile(path):
        raise DecodeError(path, "no such file")
    failure = None
    with _ffmpeg_errors() as messages:
        try:
            frames, count = _read_frames(
                path, max_frames, short_side, frame_range
            )
        except av.FFmpegError as error:
            failure = error.strerror
    if failure:
        detail = f" ({messages[0]})" if messages else ""
        raise DecodeError(path, f"not a readable video: {failure}{detail}")
    if messages:
        raise DecodeError(path, f"corrupt or truncated ({messages[0]})")
    if not count:
        raise DecodeError(path, "the video has no frames")
    return frames, count


def _check_request(max_frames, frame_range):
    if max_frames is not None and max_frames < 1:
        raise errors.InputError(f"max_frames must be >= 1, got {max_frames}")
    if frame_range is None:
        return
    first, last = frame_range
    if not 1 <= first <= last:
        raise errors.InputError(
            f"Bad frame range {first}-{last}: frames are numbered from 1, "
            "and the first may not come after the last"
        )


def _span(count, frame_range):
    """`(start, stop)`, 0-based and half-open, of a range in `count` frames."""
    if frame_range is None:
        return 0, count
    return frame_range[0] - 1, min(frame_range[1], count)


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


def _read_frames(path, max_frames, short_side, frame_range):
    """Returns (kept frames, frames in the video); see `read`."""
    if max_frames is None:
        return _decode_pass(path, short_side, frame_range, None)
    count = _count_packets(path)
    picks = _picks(count, max_frames, frame_range)
    frames, decoded = _decode_pass(path, short_side, frame_range, picks)
    if decoded != count:
        # Some packets hold no frame (e.g. placeholders of packed MPEG-4 in
        # AVI): the picks were spread over the wrong count.
        again = _picks(decoded, max_frames, frame_range)
        if not np.array_equal(again, picks):
            frames, decoded = _decode_pass(path, short_side, frame_range, again)
    return frames, decoded


def _picks(count, max_frames, frame_range):
    """Indices of the frames to keep, out of `count`."""
    start, stop = _span(count, frame_range)
    return start + spread_indices(max(0, stop - start), max_frames)


def _count_packets(path):
    """The video's frame count, from its packets, read without decoding.

    Container frame counts are often missing (webm) or wrong.
    """
    with av.open(path) as container:
        stream = _video_stream(container, path)
        return sum(1 for packet in container.demux(stream) if packet.size)


def _decode_pass(path, short_side, frame_range, picks):
    """Decodes every frame, converting and keeping only the picked ones.

    Args:
        path: The video.
        short_side: As `read`'s.
        frame_range: As `read`'s; used when `picks` is None.
        picks: Indices of the frames to keep, or None for all in range.

    Returns:
        (kept frames, frames decoded).
    """
    if picks is None:
        start, stop = _span(math.inf, frame_range)
        keep = range(start, stop).__contains__ if stop < math.inf else None
    else:
        keep = set(picks.tolist()).__contains__
    frames, size, count = [], None, 0
    with av.open(path) as container:
        stream = _video_stream(container, path)
        tag = _rotation_tag(stream)
        for count, frame in enumerate(container.decode(stream), 1):
            if keep is None or keep(count - 1):
                rgb = frame.to_ndarray(format="rgb24")
                rgb = frame_resize.upright(rgb, frame.rotation or tag)
                size = size or frame_resize.short_side_size(
                    rgb.shape[:2], short_side
                )
                frames.append(frame_resize.resize(rgb, size))
    return frames, count


def _video_stream(container, path):
    if not container.streams.video:
        raise DecodeError(path, "no video stream")
    return container.streams.video[0]


def _rotation_tag(stream):
    """Counter-clockwise degrees of a `rotate` tag on the stream, else 0.

    FFmpeg once wrote and read rotations as this tag (clockwise degrees);
    files made then, such as Matroska ones, still carry it instead of a
    display matrix.
    """
    for key, value in stream.metadata.items():
        if key.lower() == "rotate":
            try:
                return -float(value)
            except ValueError:
                return 0
    return 0


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
