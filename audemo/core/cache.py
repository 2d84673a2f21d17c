r"""Resumable cache of results, stored in parts as they complete."""

from collections.abc import Callable
import os
import uuid

import pandas as pd

import audeer
import audformat


PART_SIZE = 100
r"""Number of index rows per cached part."""


def process_index_resumable(
    process: Callable[[pd.Index], tuple[pd.DataFrame, bool]],
    index: pd.Index,
    folder: str,
    *,
    part_size: int | None = None,
    verbose: bool = False,
) -> pd.DataFrame:
    r"""Process an index in parts and cache every part as it completes.

    Parts are stored under ``<folder>/<hash of index>/``
    as pickle files written to a temporary name
    and renamed when complete,
    so a crash never leaves a part that is trusted later.
    Parts found in the cache are read instead of processed.

    Args:
        process: function that processes a part of the index
            and tells whether its result may be cached
        index: index conform to audformat
        folder: cache folder of the processing settings
        part_size: number of index rows per part,
            default :data:`PART_SIZE`
        verbose: show a progress bar over the rows of the index

    Returns:
        concatenated results of all parts

    """
    parts = split_index(index, part_size or PART_SIZE)
    paths = part_paths(folder, index, len(parts))
    frames = []
    with audeer.progress_bar(
        total=len(index),
        desc=f"Process {len(index)} entries",
        disable=not verbose,
    ) as bar:
        for rows, path in zip(parts, paths):
            if os.path.exists(path):
                frame = pd.read_pickle(path)
            else:
                frame, cacheable = process(rows)
                if cacheable:
                    to_pickle_atomic(frame, path)
            frames.append(frame)
            bar.update(len(rows))
    return concat_parts(frames)


def split_index(index: pd.Index, part_size: int) -> list[pd.Index]:
    r"""Split an index into consecutive parts of ``part_size`` rows."""
    return [
        index[start : start + part_size] for start in range(0, len(index), part_size)
    ]


def part_paths(folder: str, index: pd.Index, num_parts: int) -> list[str]:
    r"""Cache files of the parts of an index.

    The layout is shared by local and cluster processing,
    so that each reuses the parts of the other.

    """
    folder = audeer.mkdir(folder, audformat.utils.hash(index, strict=True))
    return [
        os.path.join(folder, f"part-{part:06d}-of-{num_parts:06d}.pkl")
        for part in range(num_parts)
    ]


def concat_parts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    r"""Concatenate results of parts in their order."""
    # a part without rows (e.g. no speech found) has object columns
    # that would turn every column into object
    filled = [frame for frame in frames if len(frame)]
    return pd.concat(filled or frames[:1])


def to_pickle_atomic(frame: pd.DataFrame, path: str):
    r"""Write a frame so that the file appears only when complete."""
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        frame.to_pickle(tmp, protocol=4)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
