"""Wall-clock helpers: one-off timings, and medians of interleaved repeats.

The machines this runs on may be shared, so absolute times drift with the
load. Quantities that are compared are timed in alternating rounds (A B, then
B A, ...), so that a change of load affects both alike and their ratio stays
meaningful.
"""

import statistics
import time


def once(function, clock=time.perf_counter):
    """Calls `function()` once.

    Returns:
        `(result, seconds)` of `clock` (default wall-clock).
    """
    start = clock()
    result = function()
    return result, clock() - start


def repeated(function, count: int) -> list:
    """Durations in seconds of `count` successive calls of `function()`."""
    return [once(function)[1] for _ in range(count)]


def interleaved(
    functions: dict,
    repeats: int,
    warmup: int = 1,
    setups=None,
    clock=time.perf_counter,
) -> dict:
    """Times several functions in alternating rounds.

    Each function must block until its work is done (e.g. end in `.numpy()`).
    After `warmup` untimed calls of each, `repeats` rounds call every
    function once; the order reverses every round, so none always runs
    first.

    Args:
        functions: Name -> function. Without a setup it takes no arguments.
        repeats: Timed calls of each function.
        warmup: Untimed calls of each function first (tracing, caches).
        setups: Optional name -> function of no arguments, called untimed
            before every call of that name's function, which receives its
            result (e.g. a fresh iterator) and is the last to hold it.
        clock: What a duration is read from: wall-clock, or e.g.
            `time.process_time` (CPU seconds of every thread of this
            process, which other processes' load does not inflate).

    Returns:
        Name -> list of `repeats` durations in seconds.
    """
    setups = setups or {}

    def call(name):
        if name not in setups:
            return once(functions[name], clock)[1]
        argument = [setups[name]()]
        # Popped inside the timed call, so that the argument (and, for an
        # iterator, its read-ahead threads) dies before the next function.
        return once(lambda: functions[name](argument.pop()), clock)[1]

    names = list(functions)
    for _ in range(warmup):
        for name in names:
            call(name)
    times = {name: [] for name in names}
    for round_index in range(repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(call(name))
    return times


def median(values) -> float:
    """The median of durations (robust to a round slowed by other load)."""
    return float(statistics.median(values))
