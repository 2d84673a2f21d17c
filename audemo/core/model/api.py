r"""Model references: names, folders and URLs; download, verify, load.

The public API of the model layer,
as :mod:`audonnx.core.api` is for audonnx.
The pieces live in modules of their own,
each importing only modules below it:

* :mod:`audemo.core.model.registry`: registered models, cache folders
* :mod:`audemo.core.storage`: lock, atomic JSON, checksums of the cache
* :mod:`audemo.core.ort`: onnxruntime session options, devices, CUDA checks
* :mod:`audemo.core.model.folder`: a model folder read without running code,
  its interface checked
* :mod:`audemo.core.model.fingerprint`: what determines a model's outputs
* :mod:`audemo.core.model.transfer`: HTTP download with limits
* :mod:`audemo.core.model.weights`: weights that worker processes share,
  mapped from a file of the cache
* :mod:`audemo.core.model.archive`: extraction of a downloaded archive
* :mod:`audemo.core.model.download`: models in the cache, downloaded once
  and verified on use
* :mod:`audemo.core.model.precision`: the int8 variant of a model

"""

from __future__ import annotations

import dataclasses
import os
import typing

import audeer

from audemo.core.define import DEFAULT_MODEL
from audemo.core.model.download import download_to_cache
from audemo.core.model.download import read_record
from audemo.core.model.fingerprint import fingerprint
from audemo.core.model.fingerprint import onnx_sha256
from audemo.core.model.folder import MODEL_FILE
from audemo.core.model.folder import local_folder
from audemo.core.model.folder import read_model_folder
from audemo.core.model.precision import precision_root
from audemo.core.model.registry import MODELS
from audemo.core.model.registry import cache_folder
from audemo.core.model.registry import is_download
from audemo.core.ort import check_device
from audemo.core.ort import refuse_cpu_only_ops
from audemo.core.ort import require_cuda
from audemo.core.ort import session_options


if typing.TYPE_CHECKING:  # pragma: no cover - annotations only
    # audonnx imports onnx (0.5 s, ml_dtypes): it is imported where a model
    # is built (open_model), so that `from audemo import Emotion` is cheap;
    # so are onnx and the shared weights (which import onnx and onnxruntime)
    import audonnx


__all__ = [
    # defined here
    "ModelFiles",
    "acquire_model",
    "download_model",
    "load_model",
    "model_info",
    "open_model",
    # imported by other modules from here; they live in the modules named
    "MODELS",  # registry
    "MODEL_FILE",  # folder
    "cache_folder",  # registry
    "check_device",  # ort
    "fingerprint",  # fingerprint
    "is_download",  # registry
]


def download_model(
    model: str | None = None,
    *,
    cache_root: str | None = None,
    verbose: bool = False,
) -> str:
    r"""Return the local folder of a model, downloading it if needed.

    ``model`` is one of:

    * ``None``: the default model ``"w2v2-L-robust-12"``
      (from the cache, also where a folder of that name lies)
    * the name of a registered model
    * a local folder holding an :mod:`audonnx` model,
      also one named like a registered model
      (the folder that extracting the archive
      into ``w2v2-L-robust-12/`` makes is used,
      not downloaded again)
    * an ``http(s)://`` URL of a zip archive of such a folder

    Names and URLs are downloaded once into
    ``<cache_root>/models/``
    (``cache_root`` defaults to ``$AUDEMO_CACHE_ROOT``,
    else ``~/.cache/audemo``).
    The archive is written to a temporary file,
    checked (size, SHA256 where the registry knows it),
    extracted to a temporary folder
    (at most 4 GiB in all,
    no entry over 1 MiB compressed more than 100 times),
    checked (plain YAML files only, see :ref:`security:Model folders and downloads`;
    input ``signal``, outputs ``logits`` and ``hidden_states``)
    and only then moved to its final place,
    with the URL, the size and SHA256 of the archive
    and the sizes and SHA256 of its files
    in ``.audemo-download.json``.
    Later uses check the sizes
    and the SHA256 of ``model.onnx``
    (remembered, like the fingerprint):
    a file cut short or changed in the cache is reported, not used.
    A folder in the cache without that record,
    copied there by hand,
    is checked once the same way and then recorded,
    with a warning that the checksum of its archive is unknown.
    A file lock makes several processes
    that ask at once download it only once;
    temporary files of a process that was killed
    are removed by the next download.

    A download may last an hour
    (``$AUDEMO_DOWNLOAD_DEADLINE`` sets another limit in seconds)
    and wait 60 seconds for the server to send anything.
    Redirects are followed only to ``http(s)://``
    and never from ``https://`` to ``http://``.

    Set the environment variable ``AUDEMO_OFFLINE=1``
    (or ``true``, ``yes``, ``on``)
    to forbid downloads:
    a model missing from the cache is then an error.
    A cache that holds the model may be read-only.

    Args:
        model: model reference
        cache_root: cache folder
        verbose: show a progress bar while downloading

    Returns:
        absolute path of the model folder

    Raises:
        FileNotFoundError: if a local folder does not exist,
            is a zip archive
            or holds no model
        PermissionError: if the model must be downloaded
            but the cache folder is not writable
        RuntimeError: if the model cannot be downloaded
            (offline, no network, HTTP error, interrupted download,
            too large, too slow, redirected elsewhere)
            or the archive is broken
            or does not hold a model with the expected interface,
            or the cached model was damaged
        ValueError: if ``model`` is neither
            a registered name, a URL nor an existing folder,
            or the folder's YAML files are refused
            (see :ref:`security:Model folders and downloads`)

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> download_model(root) == audeer.path("my-model")
        True

    """
    # the default is the registered model, whatever folders lie here
    if not model or is_download(model):
        return download_to_cache(
            model or DEFAULT_MODEL, cache_root=cache_root, verbose=verbose
        )
    root = local_folder(model)
    read_model_folder(root)
    return root


def model_info(model: str | None = None, *, cache_root: str | None = None) -> dict:
    r"""What audemo knows about a model, without downloading it.

    Args:
        model: model reference, see :func:`audemo.download_model`
        cache_root: cache folder

    Returns:
        dictionary with the keys

        * ``model``: the reference
          (a local folder as absolute path)
        * ``url``, ``license``, ``description``:
          from the registry (``url`` also for a URL),
          else ``None``
        * ``pinned_sha256``: SHA256 of the archive
          that the registry pins,
          ``None`` if it publishes none
          (then only the checks of the archive's content protect the download)
        * ``folder``: the model folder,
          ``None`` if the model is not in the cache yet
        * ``archive_sha256``, ``archive_size``:
          of the archive the cached model was extracted from,
          as recorded at download,
          else ``None``
        * ``verified``: ``"download"``
          (downloaded and checked by audemo),
          ``"interface"``
          (found in the cache without a download record,
          checked by its interface),
          ``None`` (not checked yet, or a local folder)
        * ``fingerprint``: see :ref:`model:Fingerprints`,
          ``None`` if not in the cache or ``problem`` is set
        * ``problem``: why the cached model cannot be used,
          else ``None``

    Raises:
        FileNotFoundError: if a local folder does not exist
            or is a zip archive
        ValueError: if ``model`` is not a valid reference

    Examples:
        >>> info = model_info()
        >>> info["license"], info["pinned_sha256"], info["folder"]
        ('CC BY-NC-SA 4.0', None, None)

    """
    folder_given = bool(model) and not is_download(model)
    model = model or DEFAULT_MODEL
    info = dict.fromkeys(_INFO_KEYS)
    info["model"] = model
    if folder_given:
        folder = info["model"] = info["folder"] = local_folder(model)
        return _with_fingerprint(info, folder, cache_root=cache_root)
    info.update(_registry_info(model))
    folder = cache_folder(model, cache_root=cache_root)
    if not os.path.isfile(os.path.join(folder, MODEL_FILE)):
        return info
    info["folder"] = folder
    try:
        info.update(_record_info(read_record(folder)))
    except RuntimeError as ex:
        return {**info, "problem": str(ex)}
    return _with_fingerprint(info, folder, cache_root=cache_root)


_INFO_KEYS = (
    "url license description pinned_sha256 folder archive_sha256 "
    "archive_size verified fingerprint problem"
).split()


def _registry_info(model: str) -> dict:
    r"""What the registry says of a registered or URL model."""
    registered = MODELS.get(model)
    if registered is None:
        return {"url": model}
    return {
        "url": registered.url,
        "license": registered.license,
        "description": registered.description,
        "pinned_sha256": registered.sha256,
    }


def _record_info(record: dict | None) -> dict:
    r"""What the download record says of a cached model."""
    if record is None:
        return {}
    archive = record.get("archive") or {}
    return {
        "archive_sha256": archive.get("sha256"),
        "archive_size": archive.get("size"),
        "verified": record.get("verified", "download"),
    }


def _with_fingerprint(info: dict, folder: str, *, cache_root: str | None) -> dict:
    r"""``info`` with the folder's fingerprint, or the problem that prevents it."""
    try:
        info["fingerprint"] = fingerprint(folder, cache_root=cache_root)
    except (OSError, RuntimeError, ValueError) as ex:
        info["problem"] = str(ex)
    return info


def load_model(
    model: str | None = None,
    *,
    cache_root: str | None = None,
    device: str = "cpu",
    num_workers: int | None = 1,
    precision: str = "fp32",
) -> audonnx.Model:
    r"""Load the emotion model.

    Resolves ``model`` as :func:`audemo.download_model` does,
    downloading it on first use,
    checks its files as that function does
    and builds the model from ``model.onnx`` and the labels
    (never from code named in its YAML files).

    ``device="cuda"`` needs the GPU build of onnxruntime
    (see :ref:`install:Run on a GPU`);
    without it the model is not silently run on the CPU:
    loading fails with the install recipe.

    Args:
        model: model reference, see :func:`audemo.download_model`
        cache_root: cache folder
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_workers: number of threads onnxruntime uses
            to run the model (as :func:`audonnx.load` names it),
            not files processed in parallel
            as in :class:`audemo.Emotion`;
            ``None`` lets onnxruntime decide
        precision: ``"fp32"`` (as published) or ``"int8"``
            (weights of the matrix multiplications quantized to 8 bits,
            made once and stored in ``<cache_root>/int8/``;
            CPU only)

    Returns:
        model

    Raises:
        FileNotFoundError: if a local folder does not exist
        RuntimeError: if the model cannot be downloaded or opened,
            or ``device`` asks for CUDA
            but onnxruntime cannot use it
        ValueError: if ``model`` is not a valid reference,
            its folder is refused
            (see :ref:`security:Model folders and downloads`),
            ``device`` is not one of the above,
            or ``precision="int8"`` is combined with a GPU

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> model = load_model(root)
        >>> list(model.outputs)
        ['hidden_states', 'logits']
        >>> signal = np.zeros((1, 16000), dtype=np.float32)
        >>> model(signal, 16000, outputs="logits").shape
        (1, 3)

    """
    check_device(device, precision)
    root = download_model(model, cache_root=cache_root)
    root = precision_root(root, precision, cache_root=cache_root)
    return open_model(
        root, device=device, num_threads=num_workers, cache_root=cache_root
    )


@dataclasses.dataclass(frozen=True)
class ModelFiles:
    r"""The folders and fingerprints of a model, as an interface runs it."""

    reference: str
    r"""Registered name or URL as given, or the absolute model folder."""
    root: str
    r"""Folder of the model as published (float32)."""
    fingerprint: str
    r"""Fingerprint of the published model."""
    run_root: str
    r"""Folder of the model that runs (the int8 variant or ``root``)."""
    run_fingerprint: str
    r"""Fingerprint of the model that runs."""


def acquire_model(
    model: str | None = None,
    *,
    precision: str = "fp32",
    expected_fingerprint: str | None = None,
    cache_root: str | None = None,
    verbose: bool = False,
) -> ModelFiles:
    r"""Get a model ready to run: download, verify, make its precision variant.

    Args:
        model: model reference, see :func:`audemo.download_model`
        precision: ``"fp32"`` or ``"int8"``
        expected_fingerprint: fingerprint of the published model;
            ``None`` accepts the model as it is
        cache_root: cache folder of models
        verbose: show a progress bar while downloading

    Returns:
        folders and fingerprints

    Raises:
        RuntimeError: if the model's fingerprint differs from ``fingerprint``,
            or the model cannot be downloaded or opened

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> files = acquire_model(root)
        >>> files.run_root == files.root
        True

    """
    root = download_model(model, cache_root=cache_root, verbose=verbose)
    model = model or DEFAULT_MODEL
    actual = fingerprint(root, cache_root=cache_root)
    if expected_fingerprint is not None and expected_fingerprint != actual:
        raise RuntimeError(
            f"The model '{model}' in '{root}' has fingerprint "
            f"{actual}, but this pipeline expects {expected_fingerprint}. "
            f"It was made with a different model: "
            f"get that model, or pass fingerprint=None to accept this one."
        )
    run_root = precision_root(root, precision, cache_root=cache_root)
    run_fingerprint = (
        actual if run_root == root else fingerprint(run_root, cache_root=cache_root)
    )
    return ModelFiles(
        reference=model if root != audeer.path(model) else root,
        root=root,
        fingerprint=actual,
        run_root=run_root,
        run_fingerprint=run_fingerprint,
    )


def open_model(
    root: str,
    *,
    device: str = "cpu",
    num_threads: int | None = 1,
    cache_root: str | None = None,
    expected_fingerprint: str | None = None,
    share_weights: bool = False,
) -> audonnx.Model:
    r"""Open a model folder with audemo's session options.

    The folder is read with :func:`audemo.core.model.folder.read_model_folder`
    and its :func:`audemo.core.fingerprint.fingerprint` is taken
    (which refuses ONNX files with external data),
    then the model is built with :class:`audonnx.Model`
    (never from its YAML file).
    A GPU device must be active in the session
    (see :func:`audemo.core.ort.require_cuda`),
    and a dynamically quantized model is refused on a GPU.

    With ``share_weights`` on the CPU
    the weights come from a file of the model cache
    that every process maps into its memory
    (see :func:`audemo.core.model.weights.shared_weights`),
    so that worker processes hold one copy of them together;
    where that file cannot be made or used
    the model runs with its own copy.

    Args:
        root: model folder
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_threads: number of onnxruntime threads;
            ``None`` lets onnxruntime decide
        cache_root: cache folder of the fingerprint memo
        expected_fingerprint: fingerprint the folder must have, if known
        share_weights: take the weights from a shared, memory-mapped file

    Returns:
        model

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        RuntimeError: if onnxruntime cannot open the model,
            it uses external data,
            its fingerprint differs from ``expected_fingerprint``,
            or ``device`` asks for CUDA but onnxruntime cannot use it
        ValueError: if the folder is refused,
            see :func:`audemo.core.model.folder.read_model_folder`,
            ``device`` is invalid,
            or the model is dynamically quantized and ``device`` a GPU

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> model = open_model(root, num_threads=2)
        >>> model.sess.get_session_options().intra_op_num_threads
        2

    """
    check_device(device)
    path, labels = read_model_folder(root)
    actual = fingerprint(root, cache_root=cache_root)
    if expected_fingerprint not in (None, actual):
        raise RuntimeError(
            f"The model in '{root}' changed: it has fingerprint {actual} "
            f"instead of {expected_fingerprint}. Create the pipeline again "
            f"to use the new model."
        )
    # inputs vary in length, so a memory pattern planned for one shape
    # is rarely reused; without it the int8 model peaks at 617 instead of
    # 812 MB for inputs up to 10 s, at the same speed (docs/performance.rst)
    options = session_options(num_threads, memory_pattern=False)
    if device != "cpu":
        refuse_cpu_only_ops(path, device)
        require_cuda(device, root)
    import onnx

    import audonnx  # see the imports at the top

    from audemo.core.model.weights import shared_weights

    weights = None
    if share_weights and device == "cpu":
        digest = onnx_sha256(path, cache_root=cache_root)
        weights = shared_weights(path, digest, cache_root=cache_root)
    try:
        if weights is None:
            model = audonnx.Model(
                path, labels=labels, device=device, session_options=options
            )
        else:
            weights.apply(options)
            graph = onnx.load_from_string(weights.graph)
            model = audonnx.Model(
                graph, labels=labels, device=device, session_options=options
            )
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(f"Cannot load the model in '{root}': {ex}") from ex
    if device != "cpu":
        require_cuda(device, root, model.sess.get_providers())
    # which file the session maps, if any
    model.shared_weights = weights
    return model
