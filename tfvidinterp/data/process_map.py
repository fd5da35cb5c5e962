"""A map over worker processes that yields in order and survives a worker
that dies: `map_in_order`, with which `prepare.run` decodes videos."""

import collections
import multiprocessing
from concurrent import futures
from concurrent.futures import process


def map_in_order(function, jobs, num_workers, if_died):
    """Yields `function(job)` for each job, in order, computed in parallel.

    `prepare.run`'s workers decode, resize and JPEG-encode
    (`encode_example`), so the parent only writes bytes. They fork from a
    server process that imported `function`'s module, and so TF, once: not
    from this process, which may have run TF ops (a fork of it can
    deadlock), and without an import per worker (spawn), which takes
    seconds each.

    A worker that dies (killed for lack of memory, a crash in FFmpeg) breaks
    the pool and fails every job in flight: those jobs run again in a new
    pool, one at a time, so that the one that kills its worker again is
    found. It yields `if_died`, and the others their results.
    """
    if num_workers == 0:
        yield from map(function, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([function.__module__])
    todo, suspects = collections.deque(jobs), 0
    while todo:
        with futures.ProcessPoolExecutor(
            num_workers, mp_context=context
        ) as pool:
            suspects = yield from _run_until_broken(
                pool, function, todo, suspects, 4 * num_workers, if_died
            )


def _run_until_broken(pool, function, todo, suspects, window_size, if_died):
    """Runs `todo`'s jobs in `pool` until they are done or the pool breaks.

    Args:
        pool: A `ProcessPoolExecutor`.
        function: The function of a job.
        todo: A deque of jobs, consumed from the left; on a break, the jobs
            in flight are put back at its front.
        suspects: How many jobs at the front of `todo` were in flight when a
            worker died: they run one at a time.
        window_size: Jobs in flight otherwise; a bounded window keeps memory
            flat when one video is slow.
        if_died: What to yield for a suspect whose worker dies.

    Yields:
        The results of the jobs, in order.

    Returns:
        The new count of suspects.
    """
    window = collections.deque()
    while todo or window:
        while todo and len(window) < (1 if suspects else window_size):
            try:
                future = pool.submit(function, todo[0])
            except process.BrokenProcessPool:
                break
            window.append((todo.popleft(), future))
        if not window:  # A worker died between jobs: none is lost.
            return suspects
        job, future = window.popleft()
        try:
            result = future.result()
        except process.BrokenProcessPool:
            if suspects:  # It ran alone: it is the one.
                yield if_died
                return suspects - 1
            todo.extendleft(reversed([job, *(other for other, _ in window)]))
            return 1 + len(window)
        suspects = max(0, suspects - 1)
        yield result
    return suspects
