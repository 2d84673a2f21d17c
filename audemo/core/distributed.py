r"""Processing of an index on a Dask cluster."""

from __future__ import annotations

import functools
import os
import tempfile
import threading

import pandas as pd

import audeer
import audobject

from audemo.core.cache import FILE_KEYS
from audemo.core.cache import PART_SIZE
from audemo.core.cache import concat_parts
from audemo.core.cache import make_folder
from audemo.core.cache import part_paths
from audemo.core.cache import read_part
from audemo.core.cache import split_index
from audemo.core.cache import write_part
from audemo.core.emotion import Emotion
from audemo.core.failures import FailedRow
from audemo.core.failures import row_unit
from audemo.core.failures import warn_failures
from audemo.core.failures import warn_unsegmented
from audemo.core.index import check_index
from audemo.core.index import progress_description
from audemo.core.pipeline import load_pipeline
from audemo.core.utils import check_choice
from audemo.core.utils import check_positive_integer
from audemo.core.workers import process_shard


def process_index(
    interface: Emotion,
    index: pd.Index,
    *,
    client: object,
    root: str | None = None,
    cache_root: str | None = None,
    partition_size: int = PART_SIZE,
    file_key: str = "stat",
    verbose: bool = True,
) -> pd.DataFrame:
    r"""Process an audformat index on a Dask cluster.

    The index is split into partitions of ``partition_size`` rows,
    and every partition is a task of the cluster.
    The interface travels to the workers as its YAML
    (:meth:`audobject.Object.to_yaml_s`),
    which each worker loads once
    with the checks of :func:`audemo.load_pipeline`:
    only allowed classes, no package installation,
    and the model found in the worker's cache
    (``$AUDEMO_CACHE_ROOT`` or ``~/.cache/audemo``,
    downloaded there if missing)
    must have the fingerprint recorded in the YAML.
    Workers run the model on ``device``
    with ``num_threads`` onnxruntime threads
    of ``interface``,
    and the worker processes of a machine share the weights
    (see ``share_weights`` of :class:`audemo.Emotion`).

    The result is the same as
    ``interface.process_index(index, root=root)``:
    the rows of all partitions in the order of ``index``.
    With ``errors="coerce"``
    failing inputs of all workers
    give rows of NaN and **one** warning that lists them.
    A task whose worker dies is run again (up to 3 times).

    With ``cache_root``,
    the result of every partition is stored
    as soon as it arrives at the client,
    in the layout of the cache of :meth:`audemo.Emotion.process_index`,
    and a later run submits only the partitions that are missing.
    With the default ``partition_size``
    (100 rows)
    both share their caches:
    a run on the cluster resumes a local run and vice versa.
    Partitions with failures are not cached.
    The key of a partition covers the same
    as in :meth:`audemo.Emotion.process_index`:
    the settings, the index, the rows of the partition,
    and every audio file of it,
    by absolute path, size and ``st_mtime_ns``
    (``file_key="stat"``)
    or by the SHA256 of its bytes (``file_key="content"``),
    read **on the client**:
    ``root`` must lead to the same files there
    as on the workers.
    ``cache_root`` and what is below it
    must not be writable by other users.

    Args:
        interface: emotion interface
        index: index conform to audformat_ (filewise or segmented)
        client: :class:`dask.distributed.Client` of the cluster
        root: root folder to expand relative file paths
            (as the workers see it)
        cache_root: cache folder of results (see above)
        partition_size: number of index rows per task
        file_key: how audio files enter the cache key:
            ``"stat"`` or ``"content"`` (see above)
        verbose: show a progress bar over the partitions

    Returns:
        data frame with one row per file, segment or window

    Raises:
        TypeError: if ``index`` is not a pandas index
            (e.g. a list of files: pass ``audformat.filewise_index(files)``)
        ValueError: if ``client`` is ``None``,
            ``interface`` is not an :class:`audemo.Emotion`,
            its segmentation cannot be serialized,
            ``index`` is not conform to audformat_,
            ``partition_size`` is smaller than 1,
            or ``file_key`` is invalid
        PermissionError: if other users can write
            the cache folder or a part in it

    .. _audformat: https://audeering.github.io/audformat/data-format.html

    """
    _check_arguments(interface, client, partition_size, file_key)
    check_index(index)
    # raises a ValueError if the segmentation cannot be serialized
    key = interface.cache_key()
    if len(index) == 0:
        return interface.process_index(index, root=root)

    parts = split_index(index, partition_size)
    paths = [None] * len(parts)
    if cache_root is not None:
        paths = part_paths(
            make_folder(cache_root, key), index, parts, root=root, file_key=file_key
        )
    frames = [read_part(path) if path is not None else None for path in paths]
    futures = _submit_missing(client, interface, parts, frames, root)
    try:
        failures = _gather(futures, frames, paths, progress_description(index), verbose)
    finally:
        # an error stops the run: drop the tasks that are left
        client.cancel(list(futures.values()))

    frame = concat_parts(frames)
    frame.attrs["failures"] = len(failures)
    files = index.get_level_values("file")
    if failures:
        warn_failures(failures, files.unique(), len(frame), row_unit(interface.win_dur))
    warn_unsegmented(interface.process.segment, files, frame)
    return frame


def _check_arguments(
    interface: Emotion, client: object, partition_size: object, file_key: str
):
    if client is None:
        raise ValueError(
            "client must be a dask.distributed.Client, not None: "
            "start one with dask.distributed.Client(cluster) "
            "or the address of a scheduler."
        )
    if not isinstance(interface, Emotion):
        raise ValueError(
            f"interface must be an audemo.Emotion, not {type(interface).__name__}."
        )
    check_positive_integer("partition_size", partition_size)
    check_choice("file_key", FILE_KEYS, file_key)


def _submit_missing(
    client: object,
    interface: Emotion,
    parts: list[pd.Index],
    frames: list[pd.DataFrame | None],
    root: str | None,
) -> dict[int, object]:
    r"""Submit the partitions without a result, one task each."""
    yaml = interface.to_yaml_s()
    overrides = (
        ("device", interface.device),
        ("num_threads", interface.num_threads),
        ("share_weights", interface.share_weights),
    )
    return {
        part: client.submit(
            _run_partition,
            yaml,
            overrides,
            parts[part],
            root,
            pure=False,
            retries=3,
        )
        for part, frame in enumerate(frames)
        if frame is None
    }


def _gather(
    futures: dict[int, object],
    frames: list[pd.DataFrame | None],
    paths: list[str | None],
    label: str,
    verbose: bool,
) -> list[FailedRow]:
    r"""Fill in the results of the tasks as they complete, caching each.

    Returns the failures of all partitions in the order of the partitions.

    """
    total = len(frames)
    failures = [[] for _ in range(total)]
    parts = {future.key: part for part, future in futures.items()}
    done = total - len(futures)
    with audeer.progress_bar(
        total=total,
        desc=_description(label, done, total),
        disable=not verbose,
    ) as bar:
        bar.update(done)
        for future in _as_completed(list(futures.values())):
            part = parts[future.key]
            frame, part_failures = future.result()
            if frame is None:
                raise part_failures
            frames[part] = frame
            failures[part] = part_failures
            if paths[part] is not None and not part_failures:
                write_part(frame, paths[part])
            done += 1
            bar.set_description(_description(label, done, total))
            bar.update(1)
    return [failure for part_failures in failures for failure in part_failures]


def _as_completed(futures: list):
    # dask is an optional dependency: imported only when a client is used
    from dask.distributed import as_completed

    return as_completed(futures)


def _description(label: str, done: int, total: int) -> str:
    return f"{label}: partition {done}/{total}"


def _run_partition(
    yaml: str,
    overrides: tuple[tuple[str, object], ...],
    index: pd.Index,
    root: str | None,
) -> tuple[pd.DataFrame, list[tuple[str | None, str]]]:
    r"""Process one partition on a worker.

    Returns the result and the files and messages of failed inputs,
    since warnings of workers do not reach the client,
    or ``None`` and the error.

    """
    # one interface per worker thread: it collects the failures of its task;
    # the onnxruntime session is shared by all threads of the process
    interface = _interface(yaml, overrides, threading.get_ident())
    try:
        return process_shard(interface, index, root, None)
    except Exception as ex:
        # returned, not raised: dask retries raised errors,
        # but a failing input fails again
        return None, ex


@functools.lru_cache(maxsize=64)
def _interface(
    yaml: str,
    overrides: tuple[tuple[str, object], ...],
    thread: int,
) -> audobject.Object:
    r"""Interface rebuilt from its YAML, once per worker thread."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "emotion.yaml")
        with open(path, "w") as fp:
            fp.write(yaml)
        return load_pipeline(
            path,
            override_args={
                **dict(overrides),
                "num_workers": 1,
                "multiprocessing": False,
                "verbose": False,
            },
        )
