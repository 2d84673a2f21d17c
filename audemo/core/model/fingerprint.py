r"""Fingerprint of a model folder, with its memo on disk and in the process."""

from __future__ import annotations

import hashlib
import json
import os
import re

from audemo.core.cache import untrusted_reason
from audemo.core.define import DIMENSIONS
from audemo.core.model.folder import read_model_folder
from audemo.core.model.folder import refuse_external_data
from audemo.core.model.registry import resolve_cache_root
from audemo.core.storage import file_sha256
from audemo.core.storage import write_json_atomic


_STANDARD_LABELS = (None, {}, {"logits": list(DIMENSIONS)})
# a SHA256 as audemo writes it (hashlib.sha256().hexdigest())
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
# SHA256 of ONNX files hashed by this process, for a read-only cache
_DIGESTS: dict[tuple, str] = {}


def fingerprint(root: str, *, cache_root: str | None = None) -> str:
    r"""Fingerprint of a model folder: what determines its outputs.

    That is the SHA256 of the folder's ``model.onnx``,
    the only ONNX file audemo runs
    (see :func:`audemo.core.model.folder.read_model_folder`),
    as published for the default model.
    ONNX files that keep weights in external data files are refused,
    since those files would change the outputs unseen.
    If the labels differ from the standard ones
    (``logits``: arousal, dominance, valence, or none),
    the fingerprint is the SHA256 of
    ``{"labels": ..., "onnx": <SHA256 of model.onnx>}``
    as compact JSON with sorted keys,
    since they name the output columns.

    Hashing a 650 MB model takes a few seconds
    (and the check for external data parses it once more),
    so the SHA256 of ``model.onnx`` is remembered
    (see :func:`onnx_sha256`).

    Args:
        root: model folder
        cache_root: cache folder

    Returns:
        hexadecimal SHA256

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        RuntimeError: if ``model.onnx`` uses external data
        ValueError: if the folder is refused,
            see :func:`audemo.core.model.folder.read_model_folder`

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> len(fingerprint(root))
        64

    """
    path, labels = read_model_folder(root)
    digest = onnx_sha256(path, cache_root=cache_root)
    if labels in _STANDARD_LABELS:
        return digest
    text = json.dumps({"labels": labels, "onnx": digest}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def is_fingerprint(value: object) -> bool:
    r"""Whether ``value`` is a fingerprint as audemo writes it.

    That is a string of 64 lowercase hexadecimal characters,
    as :func:`fingerprint` returns.

    Args:
        value: any object

    Returns:
        ``True`` for a fingerprint

    Examples:
        >>> is_fingerprint("0" * 64), is_fingerprint("0" * 63), is_fingerprint(0)
        (True, False, False)

    """
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def onnx_sha256(path: str, *, cache_root: str | None) -> str:
    r"""SHA256 of an ONNX file without external data, remembered.

    The SHA256 is remembered in ``<cache_root>/fingerprints/``
    and recomputed whenever the file's path, size,
    modification or status change time,
    inode or device change
    (a file swapped in with the old modification time
    gets a new status change time;
    a copied cache is hashed again once).
    A read-only cache is not an error:
    the file is then hashed once per process.
    A memo that other users could have written
    (one owned by another user, writable by group or others,
    or in a folder they can write without the sticky bit,
    as in a shared cache)
    is ignored: its stamp is public, its SHA256 could be any.

    Args:
        path: ONNX file
        cache_root: cache folder

    Returns:
        hexadecimal SHA256

    Raises:
        RuntimeError: if the file uses external data

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> onnx_sha256("model/model.onnx", cache_root="cache") == fingerprint(root)
        True

    """
    path = os.path.realpath(path)
    stamp = _stamp(path)
    record_path = os.path.join(
        resolve_cache_root(cache_root),
        "fingerprints",
        hashlib.sha256(path.encode()).hexdigest()[:32] + ".json",
    )
    key = tuple(stamp.values())
    digest = _remembered(record_path, stamp)
    if digest is None and key in _DIGESTS:
        # a read-only cache: hashed by this process already
        digest = _DIGESTS[key]
    if digest is None:
        digest = file_sha256(path)
        refuse_external_data(path)
        _DIGESTS[key] = digest
        try:
            write_json_atomic(record_path, {**stamp, "sha256": digest})
        except OSError:
            pass  # a read-only cache works, it only hashes again
    return digest


def _stamp(path: str) -> dict:
    r"""What identifies a file's content without reading it."""
    stat = os.stat(path)
    return {
        "path": path,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "ino": stat.st_ino,
        "dev": stat.st_dev,
    }


def _remembered(record_path: str, stamp: dict) -> str | None:
    r"""SHA256 from the memo on disk if it is trusted and its stamp matches."""
    try:
        # the memo as opened, not a link to it, and a FIFO does not block;
        # then the rule of the result cache
        flags = (
            os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
        descriptor = os.open(record_path, flags)
        with open(descriptor) as fp:
            folder = os.stat(os.path.dirname(record_path))
            if untrusted_reason(os.fstat(fp.fileno())) or untrusted_reason(folder):
                return None
            record = json.load(fp)
        if all(record.get(key) == value for key, value in stamp.items()):
            return record["sha256"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None
