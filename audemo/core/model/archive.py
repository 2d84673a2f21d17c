r"""Extract a downloaded model archive within caps on size, entries and ratio."""

from __future__ import annotations

import os
import zipfile

from audemo.core.model.folder import MODEL_FILE


MAX_UNPACKED_BYTES = 4 * 1024**3
r"""Largest total size of the files in a model archive (4 GiB)."""

MAX_COMPRESSION_RATIO = 100
r"""Largest compression ratio of an archive entry over 1 MiB.

Model weights compress by a few percent;
a zip bomb by a factor of up to 1000.
"""

MAX_ARCHIVE_ENTRIES = 1000
r"""Most entries a model archive may hold."""

_RATIO_CHECKED_FROM = 1024 * 1024  # smaller entries may compress well


def extract(archive: str, destination: str, *, url: str) -> str:
    r"""Extract a model archive and find the model folder in it.

    The archive is refused if it holds more than
    :data:`MAX_ARCHIVE_ENTRIES` entries,
    more than :data:`MAX_UNPACKED_BYTES` in all,
    or an entry over 1 MiB compressed more than
    :data:`MAX_COMPRESSION_RATIO` times.
    The model folder is the top level of the archive
    or its single sub-folder that holds ``model.onnx``.

    Args:
        archive: zip file
        destination: folder to extract to
        url: where the archive came from, for error messages

    Returns:
        the model folder in ``destination``

    Raises:
        RuntimeError: if the archive is refused, broken
            or holds no model

    """
    try:
        with zipfile.ZipFile(archive) as zf:
            _check_entries(zf.infolist(), url=url)
            # zipfile keeps entries inside destination (no '..', no absolute
            # paths), writes symbolic links as plain files, and stops each entry
            # at its declared size (checked above), failing on a wrong CRC
            zf.extractall(destination)
    except RuntimeError:
        raise
    except Exception as ex:  # zipfile raises several types
        raise RuntimeError(
            f"The archive downloaded from {url} is broken "
            f"and cannot be extracted: {ex}. Nothing was cached."
        ) from ex
    return _model_folder(destination, url=url)


def _check_entries(entries: list[zipfile.ZipInfo], *, url: str):
    r"""Refuse too many entries, too many bytes and zip bombs."""
    total = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_ARCHIVE_ENTRIES or total > MAX_UNPACKED_BYTES:
        raise RuntimeError(
            f"The archive downloaded from {url} unpacks to "
            f"{len(entries)} files of {total} bytes, more than "
            f"{MAX_ARCHIVE_ENTRIES} files or {MAX_UNPACKED_BYTES} bytes: "
            f"refused, nothing was cached."
        )
    bombs = [
        entry.filename
        for entry in entries
        if entry.file_size > _RATIO_CHECKED_FROM
        and entry.file_size > MAX_COMPRESSION_RATIO * entry.compress_size
    ]
    if bombs:
        raise RuntimeError(
            f"The archive downloaded from {url} holds {bombs}, "
            f"compressed more than {MAX_COMPRESSION_RATIO} times "
            f"(a zip bomb, not model weights): refused, nothing was cached."
        )


def _model_folder(destination: str, *, url: str) -> str:
    r"""The extracted folder that holds ``model.onnx``."""
    if os.path.exists(os.path.join(destination, MODEL_FILE)):
        return destination
    entries = [
        entry
        for entry in os.listdir(destination)
        if os.path.isdir(os.path.join(destination, entry))
        and os.path.exists(os.path.join(destination, entry, MODEL_FILE))
    ]
    if len(entries) != 1:
        raise RuntimeError(
            f"The archive downloaded from {url} holds no '{MODEL_FILE}' "
            f"at its top level or in a single sub-folder. Nothing was cached."
        )
    return os.path.join(destination, entries[0])
