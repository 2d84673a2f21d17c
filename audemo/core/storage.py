r"""Writing into the model cache safely: lock, atomic JSON, checksums, removal."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import hashlib
import json
import os
import shutil
import uuid

import filelock


CHUNK_SIZE = 1024 * 1024
r"""Bytes read or downloaded at a time (1 MiB)."""


@contextlib.contextmanager
def cache_lock(folder: str, *, cache_root: str | None):
    r"""Hold the file lock of a folder in the cache, creating its parent.

    Args:
        folder: folder in the cache that is about to be written
        cache_root: cache folder as the user gave it, for error messages

    Raises:
        PermissionError: if the parent folder or the lock cannot be written

    Examples:
        >>> with cache_lock(os.path.abspath("models/m"), cache_root=None):
        ...     os.path.exists("models/m.lock")
        True

    """
    parent = os.path.dirname(folder)
    lock = filelock.FileLock(folder + ".lock")
    try:
        os.makedirs(parent, exist_ok=True)
        lock.acquire()
    except OSError as ex:
        setting = (
            f"cache_root='{cache_root}'"
            if cache_root
            else "$AUDEMO_CACHE_ROOT (or cache_root=, --cache-root)"
        )
        raise PermissionError(
            f"Cannot write to the cache folder '{parent}' "
            f"({ex.strerror or ex}): audemo needs it to store "
            f"'{os.path.basename(folder)}'. Set {setting} "
            f"to a writable folder, or make this one writable."
        ) from ex
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    r"""A temporary file beside ``path``, renamed to ``path`` when all went well.

    Write the file under the name this yields:
    when the block ends without an error,
    the file is renamed to ``path`` in one step,
    so a reader sees the old file or the new one,
    never a part,
    even if the process is killed while it writes.
    On an error the temporary file is removed;
    a killed process leaves it behind
    (``<name>.<pid>-<random>.tmp<extension>``).
    The temporary name keeps the extension of ``path``
    for writers that choose the format from it.

    Args:
        path: file to write

    Yields:
        the temporary name to write

    Examples:
        >>> with atomic_path("results.csv") as tmp:
        ...     with open(tmp, "w") as fp:
        ...         _ = fp.write("file,arousal\\n")
        ...     os.path.exists("results.csv")
        False
        >>> with atomic_path("results.csv") as tmp:
        ...     with open(tmp, "w") as fp:
        ...         _ = fp.write("half a line")
        ...     raise RuntimeError("disk full")
        Traceback (most recent call last):
        ...
        RuntimeError: disk full
        >>> sorted(name for name in os.listdir(".") if name.startswith("results"))
        ['results.csv']
        >>> open("results.csv").read()
        'file,arousal\\n'

    """
    stem, extension = os.path.splitext(path)
    tmp = f"{stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{extension}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json_atomic(path: str, data: dict):
    r"""Write a JSON file in one step, creating its folder.

    The data is written to a temporary file
    that is renamed to ``path``:
    a reader sees the old file or the new one,
    never a part.
    The file and the folders created for it
    can be written by their owner only, whatever the umask.

    Args:
        path: file to write
        data: what to write

    Examples:
        >>> write_json_atomic(os.path.abspath("records/a.json"), {"size": 1})
        >>> os.listdir("records")
        ['a.json']

    """
    # not writable by others, whatever the umask: readers ignore such files
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fp:
            json.dump(data, fp)
        os.chmod(tmp, 0o644)


def file_sha256(path: str) -> str:
    r"""SHA256 of a file, read in blocks.

    Args:
        path: file

    Returns:
        hexadecimal SHA256

    Examples:
        >>> with open("empty.bin", "wb") as fp:
        ...     pass
        >>> file_sha256("empty.bin")[:16]
        'e3b0c44298fc1c14'

    """
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def remove_path(path: str):
    r"""Remove a file, link or folder if it exists.

    A link to a folder is removed, not the folder.

    Args:
        path: what to remove

    Examples:
        >>> remove_path(audeer.mkdir("tmp-folder"))
        >>> remove_path("tmp-folder")
        >>> os.path.exists("tmp-folder")
        False

    """
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
