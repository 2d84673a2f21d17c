r"""Resumable cache of results, stored in parts as they complete.

Layout::

    <cache_root>/<settings key>/<index hash>/part-<i>-of-<n>-<part key>.parquet

The settings key is :meth:`audemo.Emotion.cache_key`,
the index hash is :func:`audformat.utils.hash` of the whole index,
and the part key (:func:`part_key`) covers the rows of the part,
the audio files they refer to (see ``FILE_KEYS``)
and the storage format.
Parts are parquet files:
reading them runs no code, unlike pickle files.

"""

from collections.abc import Callable
import hashlib
import json
import os
import stat
import uuid
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import audeer
import audformat

from audemo.core.storage import file_sha256
from audemo.core.utils import check_choice


PART_SIZE = 100
r"""Number of index rows per cached part."""

FILE_KEYS = ("stat", "content")
r"""How the audio files of a part enter its key.

``"stat"``: resolved absolute path, size and modification time
(``st_mtime_ns``) of every file;
``"content"``: SHA256 of the bytes of every file,
so a moved or copied database keeps its cache.
"""

# parquet as written by this pandas major:
# another major may read it back with other dtypes
_FORMAT = f"parquet-1 pandas-{pd.__version__.split('.')[0]}"
_SUFFIX = ".parquet"
_METADATA = b"audemo"


def process_index_resumable(
    process: Callable[[pd.Index], tuple[pd.DataFrame, bool]],
    index: pd.Index,
    folder: str,
    *,
    root: str | None = None,
    file_key: str = "stat",
    part_size: int | None = None,
    verbose: bool = False,
    description: str | None = None,
) -> pd.DataFrame:
    r"""Process an index in parts and cache every part as it completes.

    Parts are stored under ``<folder>/<hash of index>/``
    as parquet files written to a temporary name
    and renamed when complete,
    so a crash never leaves a part that is trusted later.
    Parts found in the cache are read instead of processed;
    a part that cannot be read is processed and written again.

    Args:
        process: function that processes a part of the index
            and tells whether its result may be cached
        index: index conform to audformat
        folder: cache folder of the processing settings,
            checked with :func:`check_folder`
        root: root folder of relative file paths in ``index``
        file_key: how the files enter the key, one of :data:`FILE_KEYS`
        part_size: number of index rows per part,
            default :data:`PART_SIZE`
        verbose: show a progress bar over the rows of the index
        description: label of the progress bar

    Returns:
        concatenated results of all parts

    """
    parts = split_index(index, part_size or PART_SIZE)
    paths = part_paths(folder, index, parts, root=root, file_key=file_key)
    frames = []
    with audeer.progress_bar(
        total=len(index),
        desc=description or f"Process {len(index)} rows",
        disable=not verbose,
    ) as bar:
        for rows, path in zip(parts, paths):
            frame = read_part(path)
            if frame is None:
                frame, cacheable = process(rows)
                if cacheable:
                    write_part(frame, path)
            frames.append(frame)
            bar.update(len(rows))
    return concat_parts(frames)


def split_index(index: pd.Index, part_size: int) -> list[pd.Index]:
    r"""Split an index into consecutive parts of ``part_size`` rows."""
    return [
        index[start : start + part_size] for start in range(0, len(index), part_size)
    ]


def part_paths(
    folder: str,
    index: pd.Index,
    parts: list[pd.Index],
    *,
    root: str | None,
    file_key: str,
) -> list[str]:
    r"""Cache files of the parts of an index.

    The layout is shared by local and cluster processing,
    so that each reuses the parts of the other.
    Creates the folders and checks them with :func:`check_folder`.

    """
    folder = make_folder(folder, audformat.utils.hash(index, strict=True))
    return [
        os.path.join(
            folder,
            f"part-{number:06d}-of-{len(parts):06d}-"
            f"{part_key(rows, root, file_key)}{_SUFFIX}",
        )
        for number, rows in enumerate(parts)
    ]


def part_key(rows: pd.Index, root: str | None, file_key: str) -> str:
    r"""Hash of what identifies the result of a part.

    Covers the storage format (parquet, pandas major version),
    the rows of the part (file, start, end),
    and for every file of the part
    its resolved absolute path, size and ``st_mtime_ns``
    (``file_key="stat"``)
    or the SHA256 of its bytes (``file_key="content"``).
    A file that cannot be read enters as missing,
    so that processing reports it.

    """
    check_choice("file_key", FILE_KEYS, file_key)
    key = hashlib.sha256(f"{_FORMAT}\n{file_key}\n".encode())
    key.update(audformat.utils.hash(rows, strict=True).encode())
    for file in dict.fromkeys(rows.get_level_values("file")):
        # as audinterface expands it: an absolute file ignores root
        path = os.path.realpath(os.path.join(root, file) if root else file)
        try:
            if file_key == "stat":
                info = os.stat(path)
                identity = f"{path}\0{info.st_size}\0{info.st_mtime_ns}"
            else:
                identity = file_sha256(path)
        except OSError as ex:
            identity = f"{path}\0{type(ex).__name__}"
        key.update(f"\n{identity}".encode())
    return key.hexdigest()[:16]


def read_part(path: str) -> pd.DataFrame | None:
    r"""Cached part, or ``None`` if missing or unreadable.

    An unreadable part (truncated or corrupt)
    gives a warning and ``None``,
    so that it is processed and written again.

    Raises:
        PermissionError: if other users can write the part,
            see :func:`check_folder`

    """
    if not os.path.exists(path):
        return None
    check_folder(path)
    try:
        table = pq.read_table(path)
        metadata = json.loads(table.schema.metadata[_METADATA])
        frame = _with_dtypes(table.to_pandas(), metadata["dtypes"])
        frame.attrs = metadata["attrs"]
        return frame
    except Exception as ex:  # pyarrow raises its own types for broken files
        warnings.warn(
            f"Cannot read cached part '{path}' ({ex}): processing it again.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


def write_part(frame: pd.DataFrame, path: str):
    r"""Write a part so that the file appears only when complete."""
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    table = pa.Table.from_pandas(frame)
    # parquet restores the dtypes of columns but not all of the index
    # (pandas 3 reads "string" levels as "str"): keep them all
    metadata = {"dtypes": _dtypes(frame), "attrs": frame.attrs}
    table = table.replace_schema_metadata(
        {**table.schema.metadata, _METADATA: json.dumps(metadata).encode()}
    )
    try:
        pq.write_table(table, tmp)
        # not writable by others, whatever the umask: check_folder refuses that
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def make_folder(root: str, *names: str) -> str:
    r"""Create ``root`` and its subfolders ``names``, checking each of them.

    Folders are created with mode ``0o755``
    (minus the umask),
    so that a group-writable umask does not make them untrusted.

    Returns:
        path of the last folder

    Raises:
        PermissionError: if other users can write one of the folders,
            see :func:`check_folder`

    """
    path = audeer.path(root)
    for name in ("", *names):
        path = os.path.join(path, name) if name else path
        os.makedirs(path, mode=0o755, exist_ok=True)
        check_folder(path)
    return path


def check_folder(path: str):
    r"""Refuse a cache folder or file that other users can write.

    Trusted are folders and files owned by the current user (or root)
    that neither group nor others can write,
    and folders writable by everyone with the sticky bit (like ``/tmp``),
    in which nobody can replace the entries of others.
    The folders above ``cache_root`` are not checked.
    Nothing is checked where POSIX owners do not exist (Windows).

    Raises:
        PermissionError: if ``path`` is owned by another user,
            or writable by group or others without the sticky bit

    """
    info = os.stat(path)
    reason = untrusted_reason(info)
    if reason is None:
        return
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
    raise PermissionError(
        f"Refusing the result cache {kind} '{path}': it {reason}, "
        f"so they could plant results. "
        f"Use a cache_root of your own, or run 'chmod go-w' on it."
    )


def untrusted_reason(info: os.stat_result) -> str | None:
    r"""Why other users could have written a file or folder, if they could.

    The rule of :func:`check_folder`,
    for the status of a file or folder.

    Args:
        info: status of the file or folder (:func:`os.stat`, :func:`os.fstat`)

    Returns:
        the reason as a phrase after "it", or ``None`` if it is trusted

    Examples:
        >>> os.chmod(audeer.mkdir("shared"), 0o777)
        >>> untrusted_reason(os.stat("shared"))
        'can be written by other users (mode 777)'

    """
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has no owners
        return None
    if info.st_uid not in (os.geteuid(), 0):
        return f"is owned by user id {info.st_uid}, not by you ({os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (
        stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX
    ):
        return f"can be written by other users (mode {info.st_mode & 0o7777:o})"
    return None


def concat_parts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    r"""Concatenate results of parts in their order."""
    # a part without rows (e.g. no speech found) has object columns
    # that would turn every column into object
    filled = [frame for frame in frames if len(frame)]
    return pd.concat(filled or frames[:1])


def _dtype_name(dtype) -> str:
    # str() does not tell the storage of "string"
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA:
        return f"string[{dtype.storage}]"
    return str(dtype)


def _dtypes(frame: pd.DataFrame) -> dict[str, list[str]]:
    index = frame.index
    return {
        "index": [
            _dtype_name(index.get_level_values(i).dtype) for i in range(index.nlevels)
        ],
        "labels": _dtype_name(frame.columns.dtype),
        "columns": [_dtype_name(dtype) for dtype in frame.dtypes],
    }


def _with_dtypes(frame: pd.DataFrame, dtypes: dict[str, list[str]]) -> pd.DataFrame:
    # dtype names are looked up in pandas' registry, which runs no code
    index = frame.index
    levels = [
        index.get_level_values(i).astype(dtype)
        for i, dtype in enumerate(dtypes["index"])
    ]
    if isinstance(index, pd.MultiIndex):
        frame.index = pd.MultiIndex.from_arrays(levels, names=index.names)
    else:
        frame.index = levels[0].rename(index.name)
    frame.columns = frame.columns.astype(dtypes["labels"])
    changed = {
        column: dtype
        for column, dtype, now in zip(frame.columns, dtypes["columns"], frame.dtypes)
        if _dtype_name(now) != dtype
    }
    return frame.astype(changed) if changed else frame
