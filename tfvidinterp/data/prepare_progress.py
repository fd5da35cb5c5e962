"""`prepare.run`'s progress: `Prepared 1,200 of 220,000 videos (1%), 35.1
videos/s, 1:43:54 left, 1.2 GB written, 3 rejected`, redrawn on a terminal,
printed now and then elsewhere; and the duration and size formats it and
`prepare_data --check` write."""

import sys
import time

# Seconds between progress lines when stdout is not a terminal (a log file,
# a batch job): often enough to see a long run alive, rarely enough to read.
PROGRESS_SECONDS = 60.0
# On a terminal, one line is redrawn this often.
_REDRAW_SECONDS = 0.5


class Progress:
    """Prints a run's progress: videos done and per second, time left and
    bytes written.

    On a terminal, one line is redrawn; elsewhere (a log file, a batch
    job's output) a plain line is printed every `interval` seconds, and
    one at the end.
    """

    def __init__(self, total, stream=None, interval=None, clock=None):
        """Starts the clock of `total` videos; the rest is for tests.

        Args:
            total: Videos to do.
            stream: Where to print; default `sys.stdout`.
            interval: Seconds between lines; default `PROGRESS_SECONDS`,
                or `_REDRAW_SECONDS` on a terminal.
            clock: Returns seconds; default `time.monotonic`.
        """
        self._stream = stream or sys.stdout
        isatty = getattr(self._stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        if interval is None:
            interval = _REDRAW_SECONDS if self._tty else PROGRESS_SECONDS
        self._interval = interval
        self._clock = clock or time.monotonic
        self._start = self._last = self._clock()
        self.total, self.done, self.rejected, self.bytes = total, 0, 0, 0

    def add(self, num_bytes=0, rejected=False):
        """Counts a video done: `num_bytes` written, or rejected."""
        self.done += 1
        self.bytes += num_bytes
        self.rejected += bool(rejected)
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._show(self.line(now))

    def end(self):
        """Prints the last line."""
        self._show(self.line(self._clock(), final=True), final=True)

    def line(self, now, final=False):
        """The progress at `now`, a time of the clock, as one line."""
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        if final:
            timing = f" in {format_duration(elapsed)}, {rate:.1f} videos/s"
        else:
            left = (self.total - self.done) / rate if rate else None
            timing = f", {rate:.1f} videos/s, {format_duration(left)} left"
        share = self.done / self.total if self.total else 1
        return (
            f"Prepared {self.done:,} of {self.total:,} videos ({share:.0%})"
            f"{timing}, {format_size(self.bytes)} written, "
            f"{self.rejected:,} rejected"
        )

    def _show(self, line, final=False):
        if self._tty:  # Redraw: back to the start, clear to the end.
            line = f"\r{line}\033[K" + "\n" * final
        else:
            line += "\n"
        self._stream.write(line)
        self._stream.flush()


def format_duration(seconds) -> str:
    """`H:MM:SS` (`?` for None): a duration as a person reads it."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def format_size(num_bytes) -> str:
    """`num_bytes` in decimal units, as disks are sold: `1.2 GB`."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if num_bytes < 1000 or unit == "TB":
            break
        num_bytes /= 1000
    return (
        f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
    )
