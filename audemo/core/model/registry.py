r"""Models audemo knows by name, and where the cache keeps them."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.parse

import audeer

from audemo.core.define import DEFAULT_MODEL


@dataclasses.dataclass(frozen=True)
class RegisteredModel:
    r"""A model that audemo knows by name."""

    url: str
    r"""Download URL of the zip archive."""
    sha256: str | None
    r"""SHA256 checksum of the archive, if known."""
    license: str
    r"""Licence of the model."""
    description: str
    r"""Short description."""


MODELS = {
    DEFAULT_MODEL: RegisteredModel(
        url=(
            "https://zenodo.org/record/6221127/files/"
            "w2v2-L-robust-12.6bc4a7fd-1.1.0.zip"
        ),
        # Zenodo publishes only an MD5 for this record;
        # the archive is verified by its interface instead
        sha256=None,
        license="CC BY-NC-SA 4.0",
        description=(
            "wav2vec2-large-robust pruned to 12 layers, "
            "fine-tuned on MSP-Podcast "
            "(Wagner et al., 2023, doi 10.1109/TPAMI.2023.3263585)"
        ),
    ),
}
r"""Registered models by name."""


def resolve_cache_root(cache_root: str | None = None) -> str:
    r"""Folder where audemo caches models.

    Args:
        cache_root: explicit folder.
            If ``None``,
            ``$AUDEMO_CACHE_ROOT`` is used,
            else ``~/.cache/audemo``

    Returns:
        absolute path of the cache folder

    Examples:
        >>> resolve_cache_root("/data/audemo")
        '/data/audemo'

    """
    if cache_root is None:
        cache_root = os.environ.get("AUDEMO_CACHE_ROOT") or os.path.join(
            "~", ".cache", "audemo"
        )
    return audeer.path(cache_root)


def is_url(model: str) -> bool:
    r"""Tell if a model reference is an HTTP(S) URL.

    Args:
        model: model reference

    Returns:
        ``True`` for an ``http://`` or ``https://`` URL

    Examples:
        >>> is_url("https://zenodo.org/m.zip"), is_url("w2v2-L-robust-12")
        (True, False)

    """
    return urllib.parse.urlparse(model).scheme in ("http", "https")


def is_download(model: str, *, root: str | None = None) -> bool:
    r"""Tell if a model reference means a model of the cache, not a folder.

    Registered names and URLs are downloaded into the cache,
    unless a folder of that name exists:
    the folder that extracting the archive
    into ``w2v2-L-robust-12/`` makes
    is used as it is,
    not downloaded again.

    Args:
        model: model reference
        root: folder that a relative folder is relative to,
            the working folder if ``None``

    Returns:
        ``True`` for a registered name or URL
        that is not an existing folder

    Examples:
        >>> is_download("w2v2-L-robust-12")
        True
        >>> _ = audeer.mkdir("w2v2-L-robust-12")
        >>> is_download("w2v2-L-robust-12")
        False

    """
    if not (model in MODELS or is_url(model)):
        return False
    return not os.path.isdir(audeer.path(root or ".", model))


def cache_folder(model: str, *, cache_root: str | None = None) -> str:
    r"""Folder in the cache that holds a registered or URL model.

    A registered model is stored under the name of its archive;
    a URL under that name and the start of the URL's SHA256,
    so that two URLs never share a folder.

    Args:
        model: registered name or URL
        cache_root: cache folder, see :func:`resolve_cache_root`

    Returns:
        absolute path of the folder (which may not exist yet)

    Examples:
        >>> folder = cache_folder("w2v2-L-robust-12", cache_root="/data")
        >>> folder
        '/data/models/w2v2-L-robust-12.6bc4a7fd-1.1.0'

    """
    url = MODELS[model].url if model in MODELS else model
    stem = os.path.basename(urllib.parse.urlparse(url).path)
    stem = audeer.replace_file_extension(stem, "").rstrip(".") or "model"
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    if model not in MODELS:
        stem = f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    return os.path.join(resolve_cache_root(cache_root), "models", stem)
