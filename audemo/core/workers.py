r"""Worker processes of ``multiprocessing=True`` and of a Dask cluster.

audinterface would fork worker processes
from a process that runs onnxruntime threads,
which can deadlock:
audemo starts its own with ``forkserver`` (or ``spawn``)
and sends each a shard of the index.
A worker returns its frame **and** its failures,
since warnings of worker processes are lost;
the caller warns once (:func:`audemo.core.failures.warn_failures`).

"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import contextlib
import multiprocessing
import typing

import numpy as np
import pandas as pd

import audeer

from audemo.core.cache import concat_parts
from audemo.core.failures import FailedRow
from audemo.core.index import progress_description


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    from audemo.core.emotion import Emotion


BROKEN_POOL_MESSAGE = (
    "A worker process of multiprocessing=True ended abruptly. "
    "Usually the script that runs audemo has no "
    'if __name__ == "__main__": guard: each worker process imports the script '
    "again and, without the guard, runs it (and starts workers) "
    "instead of processing. Put the code that processes under "
    'if __name__ == "__main__":, or pass multiprocessing=False. '
    "Otherwise the worker was killed, e.g. for lack of memory: "
    "use fewer num_workers."
)
r"""Error message of a worker process that ended abruptly."""


def process_shard(
    interface: Emotion,
    index: pd.Index,
    root: str | None,
    process_func_args: dict | None,
) -> tuple[pd.DataFrame, list[FailedRow]]:
    r"""Process the rows of an index in a worker, failures not warned.

    Args:
        interface: the interface
        index: segmented or filewise index
        root: root folder to expand relative file paths
        process_func_args: arguments passed on to the processing function

    Returns:
        result and failed rows

    Examples:
        >>> interface = audemo.Emotion(audemo.testing.create_model("model"))
        >>> frame, failures = process_shard(
        ...     interface, audformat.filewise_index(["speech.wav"]), None, None
        ... )
        >>> frame.shape, failures
        ((1, 3), [])

    """
    # the processing step of Emotion, which returns failures instead of warning
    return interface._process_rows(index, root, process_func_args)


@contextlib.contextmanager
def worker_pool(
    num_workers: int, use_processes: bool
) -> typing.Iterator[concurrent.futures.ProcessPoolExecutor | None]:
    r"""Worker processes, or ``None`` without ``multiprocessing``.

    Args:
        num_workers: number of worker processes
        use_processes: start worker processes

    Yields:
        pool, or ``None``

    Raises:
        SystemExit: in a worker process that imports a script
            without a ``__main__`` guard

    Examples:
        >>> with worker_pool(2, False) as pool:
        ...     print(pool)
        None

    """
    if not use_processes:
        yield None
        return
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker process that imports a script without a __main__ guard
        # runs it again and gets here: it ends quietly instead of
        # printing multiprocessing's traceback, and the caller's process
        # explains the guard (see BROKEN_POOL_MESSAGE)
        raise SystemExit(1)  # pragma: no cover - in a worker, before coverage saves
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context(
        "forkserver" if "forkserver" in methods else "spawn"
    )
    with concurrent.futures.ProcessPoolExecutor(
        num_workers, mp_context=context
    ) as pool:
        yield pool


def process_in_pool(
    pool: concurrent.futures.ProcessPoolExecutor,
    interface: Emotion,
    index: pd.Index,
    root: str | None,
    process_func_args: dict | None,
) -> tuple[pd.DataFrame, list[FailedRow]]:
    r"""Process an index in shards on worker processes.

    The index is split into four shards per worker,
    the results are joined in the order of the index.

    Args:
        pool: worker processes
        interface: the interface
        index: segmented or filewise index
        root: root folder to expand relative file paths
        process_func_args: arguments passed on to the processing function

    Returns:
        result and failed rows of all shards

    Raises:
        RuntimeError: if a worker process ended abruptly

    """
    positions = np.array_split(
        np.arange(len(index)), min(len(index), pool._max_workers * 4)
    )
    frames, failures = [], []
    try:
        futures = [
            pool.submit(process_shard, interface, index[rows], root, process_func_args)
            for rows in positions
        ]
        with audeer.progress_bar(
            total=len(index),
            desc=progress_description(index),
            disable=not interface.verbose,
        ) as bar:
            for future, rows in zip(futures, positions):
                frame, shard_failures = future.result()
                frames.append(frame)
                failures.extend(shard_failures)
                bar.update(len(rows))
    except concurrent.futures.process.BrokenProcessPool:
        # the 85-line traceback of the pool hides the usual cause
        raise RuntimeError(BROKEN_POOL_MESSAGE) from None
    frame = concat_parts(frames)
    frame.attrs["failures"] = len(failures)
    return frame, failures
