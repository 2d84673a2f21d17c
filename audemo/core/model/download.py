r"""Models in the cache: download once, check, record; verify on every use."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import uuid
import warnings

from audemo.core.model.archive import extract
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.fingerprint import onnx_sha256
from audemo.core.model.folder import MODEL_FILE
from audemo.core.model.folder import check_interface
from audemo.core.model.registry import MODELS
from audemo.core.model.registry import cache_folder
from audemo.core.model.transfer import download_file
from audemo.core.storage import cache_lock
from audemo.core.storage import file_sha256
from audemo.core.storage import remove_path
from audemo.core.storage import write_json_atomic
from audemo.core.utils import caller_stacklevel


RECORD_FILE = ".audemo-download.json"
r"""Download record in a model folder of the cache.

It holds the URL, the size and SHA256 of the archive
and the sizes and SHA256 of the model's files.
"""


def download_to_cache(model: str, *, cache_root: str | None, verbose: bool) -> str:
    r"""Folder of a registered or URL model in the cache, downloading it if needed.

    A model in the cache is verified (see :func:`is_complete`)
    and used without the lock, so the cache may be read-only.
    Otherwise, under the lock of its folder,
    the temporary files of a killed process are removed,
    the archive is downloaded, checked and extracted,
    the model's interface is checked
    and the folder, with its :data:`RECORD_FILE`,
    renamed into place.

    Args:
        model: registered name or URL
        cache_root: cache folder
        verbose: show a progress bar while downloading

    Returns:
        absolute path of the model folder

    Raises:
        PermissionError: if the cache folder is not writable
        RuntimeError: if ``$AUDEMO_OFFLINE`` forbids the download,
            the download or one of the checks fails,
            or the cached model was damaged
        ValueError: if ``$AUDEMO_DOWNLOAD_DEADLINE`` is not a number
            or the folder's YAML files are refused

    """
    folder = cache_folder(model, cache_root=cache_root)
    registered = MODELS.get(model)
    url = registered.url if registered else model
    pinned = registered.sha256 if registered else None
    check = dict(url=url, pinned=pinned, cache_root=cache_root)
    # a complete model is used without the lock: the cache may be read-only
    if is_complete(folder, **check):
        return folder
    if offline():
        raise RuntimeError(
            f"Model '{model}' is not in the cache ({folder}) "
            f"and AUDEMO_OFFLINE=1 forbids downloading it. "
            f"Download {url} on a machine with network access, "
            f"extract it and pass the folder as model, "
            f"or copy it to {folder}."
        )
    with cache_lock(folder, cache_root=cache_root):
        # another process may have finished while we waited for the lock
        if is_complete(folder, **check, locked=True):
            return folder
        _remove_stale(folder)
        _install(model, folder, url=url, pinned=pinned, verbose=verbose)
    fingerprint(folder, cache_root=cache_root)
    return folder


def _remove_stale(folder: str):
    r"""Remove what a killed process left; call under the lock."""
    # temporary files are written only under the lock,
    # so those found now belong to a process that was killed
    pattern = glob.escape(folder)
    for stale in glob.glob(f"{pattern}.*.part.zip") + glob.glob(f"{pattern}.*.extract"):
        remove_path(stale)
    if os.path.exists(folder):
        # left over by a copy interrupted outside audemo
        shutil.rmtree(folder)


def _install(model: str, folder: str, *, url: str, pinned: str | None, verbose: bool):
    r"""Download, check, extract and record a model, then move it into place."""
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    archive = f"{folder}.{token}.part.zip"
    extract_root = f"{folder}.{token}.extract"
    try:
        download_file(url, archive, model=model, folder=folder, verbose=verbose)
        digest = file_sha256(archive)
        if pinned and digest != pinned:
            raise RuntimeError(
                f"The archive downloaded from {url} has SHA256 "
                f"{digest}, expected {pinned}. "
                f"It is corrupt or was replaced; nothing was cached."
            )
        root = extract(archive, extract_root, url=url)
        check_interface(root, source=url)
        # checked on later use: the sizes always, model.onnx's SHA256
        # through the fingerprint memo; the archive's SHA256 for
        # `audemo info` and for comparison with a checksum pinned later
        record = {
            "url": url,
            "archive": {"sha256": digest, "size": os.path.getsize(archive)},
            "verified": "download",
            "files": _file_entries(root),
        }
        write_json_atomic(os.path.join(root, RECORD_FILE), record)
        os.replace(root, folder)
    finally:
        remove_path(archive)
        remove_path(extract_root)


def is_complete(
    folder: str,
    *,
    url: str,
    pinned: str | None,
    cache_root: str | None,
    locked: bool = False,
) -> bool:
    r"""Whether a model is in the cache, and undamaged.

    The folder appears by an atomic rename only after it was verified;
    a file cut short or replaced later
    (disk full, an interrupted copy)
    must not be used:
    the sizes of the recorded files are checked,
    and the SHA256 of ``model.onnx``
    (through the memo of :func:`audemo.core.model.fingerprint.onnx_sha256`).
    A folder without a record is checked once and recorded.

    Args:
        folder: model folder in the cache
        url: URL of the archive
        pinned: SHA256 the registry pins for the archive
        cache_root: cache folder
        locked: whether the caller holds the folder's lock

    Returns:
        ``False`` if the folder holds no ``model.onnx``

    Raises:
        RuntimeError: if the cached model was damaged
            or was downloaded from another archive than ``pinned``

    """
    if not os.path.isfile(os.path.join(folder, MODEL_FILE)):
        return False
    record = read_record(folder)
    if record is None:
        _verify_unrecorded(folder, url=url, locked=locked)
        return True
    for name, entry in record["files"].items():
        path = os.path.join(folder, name)
        size = os.path.getsize(path) if os.path.isfile(path) else None
        if size != entry["size"]:
            raise _damaged(
                folder, f"'{name}' has {size} bytes instead of {entry['size']}"
            )
    expected = record["files"].get(MODEL_FILE, {}).get("sha256")
    path = os.path.join(folder, MODEL_FILE)
    if expected and (actual := onnx_sha256(path, cache_root=cache_root)) != expected:
        raise _damaged(
            folder,
            f"'{MODEL_FILE}' has SHA256 {actual} instead of {expected} "
            f"recorded when it was downloaded",
        )
    archive = (record.get("archive") or {}).get("sha256")
    if pinned and archive and archive != pinned:
        raise _damaged(
            folder,
            f"it was downloaded from an archive with SHA256 {archive}, "
            f"but audemo expects {pinned} for {url}",
        )
    return True


def read_record(folder: str) -> dict | None:
    r"""The download record of a model folder in the cache.

    Args:
        folder: model folder

    Returns:
        the record, ``None`` if the folder has none

    Raises:
        RuntimeError: if the record is unreadable

    Examples:
        >>> read_record(audemo.testing.create_model("model")) is None
        True

    """
    try:
        with open(os.path.join(folder, RECORD_FILE)) as fp:
            record = json.load(fp)
        for entry in record["files"].values():
            int(entry["size"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as ex:
        raise _damaged(folder, f"its '{RECORD_FILE}' is unreadable ({ex})") from ex
    return record


def _file_entries(root: str) -> dict:
    r"""Size and SHA256 of each file of a model folder, but the record."""
    return {
        name: {"size": os.path.getsize(file), "sha256": file_sha256(file)}
        for name in sorted(os.listdir(root))
        if os.path.isfile(file := os.path.join(root, name)) and name != RECORD_FILE
    }


def _verify_unrecorded(folder: str, *, url: str, locked: bool):
    r"""Check and record a model copied into the cache by hand.

    A folder without a record was copied into the cache by hand
    (as the offline instructions suggest) or by an older audemo.
    Refusing it would break those set-ups;
    using it unchecked would trust anything with the right name.
    So it is checked as a download is checked, once,
    and its files are recorded so that later changes are found.
    The archive's checksum cannot be known: the record says so.

    """
    record_path = os.path.join(folder, RECORD_FILE)
    lock = contextlib.nullcontext() if locked else cache_lock(folder, cache_root=None)
    try:
        with lock:
            if os.path.exists(record_path):
                return  # recorded by another process meanwhile
            _check_unrecorded(folder)
            record = {
                "url": url,
                "archive": None,
                "verified": "interface",
                "note": (
                    "found in the cache without a download record; "
                    "checked by its interface, the archive's checksum is unknown"
                ),
                "files": _file_entries(folder),
            }
            try:
                write_json_atomic(record_path, record)
            except OSError:
                return  # a read-only folder: checked again on every use
    except PermissionError:
        # a read-only cache cannot be recorded: checked on every use
        _check_unrecorded(folder)
        return
    warnings.warn(
        f"The model in '{folder}' has no '{RECORD_FILE}': it was not "
        f"downloaded by this audemo (copied by hand?). It passed the check of "
        f"its interface and its files are recorded now, but the checksum of "
        f"the archive it came from is unknown. To have it downloaded and "
        f"checked, delete the folder and run 'audemo download'.",
        stacklevel=caller_stacklevel(),
    )


def _check_unrecorded(folder: str):
    r"""Check the interface of a folder without a record."""
    try:
        check_interface(folder, source=folder)
    except RuntimeError as ex:
        raise _damaged(
            folder,
            f"it has no '{RECORD_FILE}' (copied by hand?) "
            f"and fails the checks of a download: {ex}",
        ) from ex


def _damaged(folder: str, problem: str) -> RuntimeError:
    return RuntimeError(
        f"The cached model in '{folder}' is damaged: {problem}. "
        f"Delete '{folder}' and run again (or run 'audemo download') "
        f"to download it anew."
    )


def offline() -> bool:
    r"""Whether ``$AUDEMO_OFFLINE`` forbids downloads.

    Returns:
        ``True`` if the variable is ``1``, ``true``, ``yes`` or ``on``
        (in any case, with spaces around)

    Examples:
        >>> offline()
        False

    """
    value = os.environ.get("AUDEMO_OFFLINE", "").strip().lower()
    return value in ("1", "true", "yes", "on")
