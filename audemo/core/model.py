r"""Model references: names, folders and URLs; download, verify, cache, load."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
import zipfile

import filelock
import onnx
import onnx.external_data_helper
import onnxruntime
import yaml

import audeer
import audonnx

from audemo.core.define import DEFAULT_MODEL
from audemo.core.define import DIMENSIONS
from audemo.core.define import INPUT
from audemo.core.safe_yaml import read_yaml_bytes
from audemo.core.safe_yaml import safe_load


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

MODEL_FILE = "model.onnx"
YAML_FILE = "model.yaml"
LABELS_FILE = "labels.yaml"
TRANSFORM_FILE = "transform.yaml"
RECORD_FILE = ".audemo-download.json"
CHUNK_SIZE = 1024 * 1024

MAX_DOWNLOAD_BYTES = 4 * 1024**3
r"""Largest model archive audemo downloads (4 GiB, a few times the default model)."""

MAX_UNPACKED_BYTES = 4 * 1024**3
r"""Largest total size of the files in a model archive (4 GiB)."""

MAX_COMPRESSION_RATIO = 100
r"""Largest compression ratio of an archive entry over 1 MiB.

Model weights compress by a few percent;
a zip bomb by a factor of up to 1000.
"""

MAX_ARCHIVE_ENTRIES = 1000
r"""Most entries a model archive may hold."""

DOWNLOAD_DEADLINE = 3600.0
r"""Seconds a download may take in all,
unless ``$AUDEMO_DOWNLOAD_DEADLINE`` sets another value."""

READ_TIMEOUT = 60.0
r"""Seconds a download may wait for the server to send anything."""

_STANDARD_LABELS = (None, {}, {"logits": list(DIMENSIONS)})
_DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")
# onnxruntime's dynamic quantization: kernels for the CPU provider only
_CPU_ONLY_OPS = {"DynamicQuantizeLinear", "DynamicQuantizeMatMul"}
_GPU_INSTALL = (
    "pip puts onnxruntime and onnxruntime-gpu into the same folder, "
    "where one overwrites the other: install the GPU build alone with "
    "'pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu' "
    "and check that "
    "'python -c \"import onnxruntime; print(onnxruntime.get_available_providers())\"' "
    "lists CUDAExecutionProvider"
)
# SHA256 of ONNX files hashed by this process, for a read-only cache
_DIGESTS: dict[tuple, str] = {}
_MODEL_KEY = re.compile(r"\$?audonnx\.core\.model\.Model(==[0-9A-Za-z.+!_-]+)?")


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
    r"""Tell if a model reference is an HTTP(S) URL."""
    return urllib.parse.urlparse(model).scheme in ("http", "https")


def download_model(
    model: str | None = None,
    *,
    cache_root: str | None = None,
    verbose: bool = False,
) -> str:
    r"""Return the local folder of a model, downloading it if needed.

    ``model`` is one of:

    * ``None``: the default model ``"w2v2-L-robust-12"``
    * the name of a registered model
    * a local folder holding an :mod:`audonnx` model
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
    model = model or DEFAULT_MODEL
    if model in MODELS or is_url(model):
        return _cached_download(model, cache_root=cache_root, verbose=verbose)
    root = _local_folder(model)
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
    model = model or DEFAULT_MODEL
    registered = MODELS.get(model)
    info = dict.fromkeys(
        (
            "url license description pinned_sha256 folder archive_sha256 "
            "archive_size verified fingerprint problem"
        ).split()
    )
    info["model"] = model
    if registered or is_url(model):
        if registered:
            info.update(
                url=registered.url,
                license=registered.license,
                description=registered.description,
                pinned_sha256=registered.sha256,
            )
        else:
            info["url"] = model
        folder = cache_folder(model, cache_root=cache_root)
        if not os.path.isfile(os.path.join(folder, MODEL_FILE)):
            return info
        info["folder"] = folder
        try:
            record = _read_record(folder)
        except RuntimeError as ex:
            return {**info, "problem": str(ex)}
        if record is not None:
            archive = record.get("archive") or {}
            info.update(
                archive_sha256=archive.get("sha256"),
                archive_size=archive.get("size"),
                verified=record.get("verified", "download"),
            )
    else:
        folder = info["model"] = info["folder"] = _local_folder(model)
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
        num_workers: number of onnxruntime threads;
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
    from audemo.core.precision import precision_root

    check_device(device, precision)
    root = download_model(model, cache_root=cache_root)
    root = precision_root(root, precision, cache_root=cache_root)
    return open_model(
        root, device=device, num_workers=num_workers, cache_root=cache_root
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
    from audemo.core.precision import precision_root

    model = model or DEFAULT_MODEL
    root = download_model(model, cache_root=cache_root, verbose=verbose)
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


def check_device(device: str, precision: str = "fp32") -> str:
    r"""Check a device before a model is downloaded or opened.

    ``precision="int8"`` is refused with a GPU:
    the int8 model uses onnxruntime's dynamic quantization,
    whose operators
    (``DynamicQuantizeLinear``, ``MatMulInteger`` on 8-bit unsigned inputs)
    have kernels for the CPU only,
    so onnxruntime would run them on the CPU
    and copy the data between GPU and CPU in every layer.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        precision: precision of the model

    Returns:
        ``device``

    Raises:
        ValueError: if ``device`` is none of the above
            or ``precision`` is ``"int8"`` and ``device`` a GPU

    Examples:
        >>> check_device("cuda:0")
        'cuda:0'

    """
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:<id>' (e.g. 'cuda:0'), "
            f"not {device!r}."
        )
    if precision == "int8" and device != "cpu":
        raise ValueError(_int8_on_gpu(device))
    return device


def _int8_on_gpu(device: str) -> str:
    return (
        f"precision='int8' with device='{device}': refused. "
        f"The int8 model uses onnxruntime's dynamic quantization "
        f"(DynamicQuantizeLinear, MatMulInteger), which runs on the CPU only: "
        f"onnxruntime would move these nodes to the CPU "
        f"and copy data between GPU and CPU in every layer. "
        f"Use precision='fp32' on a GPU, or precision='int8' with device='cpu'."
    )


def _require_cuda(device: str, root: str, active: list[str] | None = None):
    # onnxruntime falls back to the CPU with no more than a warning, both when
    # its build has no CUDA and when CUDA or cuDNN libraries are missing
    available = onnxruntime.get_available_providers()
    if "CUDAExecutionProvider" in (available if active is None else active):
        return
    if active is None:
        problem = (
            f"the installed onnxruntime {onnxruntime.__version__} "
            f"has no CUDA support (providers: {available})"
        )
    else:
        problem = (
            f"onnxruntime {onnxruntime.__version__} could not start CUDA "
            f"for the model in '{root}' (it runs on {active}); "
            f"onnxruntime-gpu needs a visible GPU (nvidia-smi) "
            f"and the CUDA and cuDNN versions it was built for"
        )
    raise RuntimeError(
        f"device='{device}' asks for CUDA, but {problem}: "
        f"the model would run on the CPU. {_GPU_INSTALL}, "
        f"or pass device='cpu'."
    )


def small_session(model: str | bytes) -> onnxruntime.InferenceSession:
    r"""Session for a small model run on short inputs, with one thread.

    For models as small as the voice activity detector
    or a categories head,
    threads cost more than they save.

    """
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def read_model_folder(
    root: str, *, source: str | None = None
) -> tuple[str, list[str] | dict[str, list[str] | None] | None]:
    r"""ONNX file and labels of a model folder, read without running code.

    :func:`audonnx.load` builds a model from its ``model.yaml``
    (or a legacy ``transform.yaml``)
    with :mod:`audobject`,
    which creates whatever Python object the file names:
    a model folder from elsewhere could run code when it is loaded.
    audemo reads these files as plain YAML
    (:func:`audemo.core.safe_yaml.safe_load`)
    and accepts only what a plain audonnx model holds:

    * ``model.yaml`` with the single key
      ``$audonnx.core.model.Model`` (possibly with ``==<version>``,
      or without ``$``)
      and under it ``path: model.onnx``,
      optional ``labels``
      (a list of strings or a mapping of output names to lists of strings)
      and optional ``transform: null``
    * no ``model.yaml``: the folder's ``model.onnx``,
      labels from a legacy ``labels.yaml`` if there is one

    ``path`` must name the folder's own ``model.onnx``,
    the file the fingerprint hashes (see :func:`fingerprint`),
    and ``model.onnx`` must not be a link to a file outside the folder.
    A ``transform.yaml`` is refused.

    Args:
        root: model folder
        source: where the model came from, used in error messages

    Returns:
        absolute path of the ONNX file and the labels

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        ValueError: if a YAML file of the folder is refused

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> path, labels = read_model_folder(root)
        >>> os.path.basename(path), labels
        ('model.onnx', {'logits': ['arousal', 'dominance', 'valence']})

    """
    root = audeer.path(root)

    def name(file: str) -> str:
        if source:
            return f"'{file}' of the model from {source}"
        return f"'{os.path.join(root, file)}'"

    path = os.path.join(root, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Model folder '{root}' holds no '{MODEL_FILE}'.{_subfolder_hint(root)}"
        )
    real_root = os.path.realpath(root)
    if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
        raise ValueError(
            f"{name(MODEL_FILE)} links to '{os.path.realpath(path)}' "
            f"outside the folder: refused. Copy the file into the folder."
        )
    if os.path.exists(os.path.join(root, TRANSFORM_FILE)):
        raise ValueError(
            f"{name(TRANSFORM_FILE)}: audemo does not load transforms "
            f"from model folders (audobject would create any Python object "
            f"the file names). The emotion model takes the raw signal: "
            f"delete '{TRANSFORM_FILE}' if the model does not need it."
        )
    yaml_path = os.path.join(root, YAML_FILE)
    if not os.path.exists(yaml_path):
        labels_path = os.path.join(root, LABELS_FILE)
        if not os.path.exists(labels_path):
            return path, None
        what = name(LABELS_FILE)
        labels = safe_load(read_yaml_bytes(labels_path, what=what), source=what)
        return path, _check_labels(labels, what)

    what = name(YAML_FILE)
    config = safe_load(read_yaml_bytes(yaml_path, what=what), source=what)
    expected = (
        f"Expected a plain audonnx model: "
        f"'$audonnx.core.model.Model==<version>:' with 'path: {MODEL_FILE}', "
        f"'labels' and 'transform: null' under it, "
        f"as audonnx.Model(...).to_yaml() writes."
    )
    if not isinstance(config, dict) or len(config) != 1:
        raise ValueError(f"{what} does not describe one model: refused. {expected}")
    ((key, args),) = config.items()
    if not isinstance(key, str) or not _MODEL_KEY.fullmatch(key):
        raise ValueError(
            f"{what} describes a '{key}', not a model: refused. {expected}"
        )
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise ValueError(f"{what} has no entries under '{key}': refused. {expected}")
    unknown = sorted(map(str, set(args) - {"path", "labels", "transform"}))
    if unknown:
        raise ValueError(f"{what} has unknown entries {unknown}: refused. {expected}")
    if args.get("transform") is not None:
        raise ValueError(
            f"{what} has a transform: audemo does not load transforms "
            f"from model folders (audobject would create any Python object "
            f"it names). Set 'transform: null' if the model takes the raw signal."
        )
    model_path = args.get("path")
    if not isinstance(model_path, str) or os.path.normpath(model_path) != MODEL_FILE:
        raise ValueError(
            f"{what} has 'path: {model_path}': refused. "
            f"audemo runs only the folder's own '{MODEL_FILE}', "
            f"the file its fingerprint covers: "
            f"name the ONNX file '{MODEL_FILE}' and set 'path: {MODEL_FILE}'."
        )
    return path, _check_labels(args.get("labels"), what)


def _local_folder(model: str) -> str:
    root = audeer.path(model)
    if os.path.isdir(root):
        return root
    if os.path.isfile(root) and zipfile.is_zipfile(root):
        raise FileNotFoundError(
            f"Model '{root}' is a zip archive, not a model folder. "
            f"Extract it ('unzip {model} -d <folder>') and pass the folder "
            f"that holds '{MODEL_FILE}', or pass the archive's http(s):// URL "
            f"to let audemo download, check and cache it."
        )
    if os.path.sep in model or os.path.exists(root):
        raise FileNotFoundError(
            f"Model folder '{root}' does not exist or is not a folder."
        )
    raise ValueError(
        f"Unknown model '{model}'. "
        f"Use one of the registered names {sorted(MODELS)}, "
        f"an http(s):// URL of a zip archive, "
        f"or a folder holding an audonnx model."
    )


def _subfolder_hint(root: str) -> str:
    # an archive extracted into a folder of its own (as `unzip -d` and file
    # managers do) gives a folder that holds the model folder
    try:
        subs = sorted(
            entry.path
            for entry in os.scandir(root)
            if entry.is_dir() and os.path.isfile(os.path.join(entry, MODEL_FILE))
        )
    except OSError:
        return ""
    if len(subs) == 1:
        return f" Its sub-folder '{subs[0]}' holds the model: pass that folder."
    if subs:
        return f" Its sub-folders {subs} hold models: pass one of them."
    return ""


def open_model(
    root: str,
    *,
    device: str = "cpu",
    num_workers: int | None = 1,
    cache_root: str | None = None,
    expected_fingerprint: str | None = None,
) -> audonnx.Model:
    r"""Open a model folder with audemo's session options.

    The folder is read with :func:`read_model_folder`
    and its :func:`fingerprint` is taken
    (which refuses ONNX files with external data),
    then the model is built with :class:`audonnx.Model`
    (never from its YAML file).
    A GPU device must be active in the session
    (see :func:`check_device`),
    and a dynamically quantized model is refused on a GPU.

    Args:
        root: model folder
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:<id>"``
        num_workers: number of onnxruntime threads;
            ``None`` lets onnxruntime decide
        cache_root: cache folder of the fingerprint memo
        expected_fingerprint: fingerprint the folder must have, if known

    Returns:
        model

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        RuntimeError: if onnxruntime cannot open the model,
            it uses external data,
            its fingerprint differs from ``expected_fingerprint``,
            or ``device`` asks for CUDA but onnxruntime cannot use it
        ValueError: if the folder is refused, see :func:`read_model_folder`,
            ``device`` is invalid,
            or the model is dynamically quantized and ``device`` a GPU

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
    options = onnxruntime.SessionOptions()
    if num_workers is not None:
        options.intra_op_num_threads = num_workers
        options.inter_op_num_threads = 1
    # audemo reports failures itself, with the file name
    options.log_severity_level = 3
    # inputs vary in length, so a memory pattern planned for one shape
    # is rarely reused; without it the int8 model peaks at 617 instead of
    # 812 MB for inputs up to 10 s, at the same speed (docs/performance.rst)
    options.enable_mem_pattern = False
    if device != "cpu":
        # parsed only for a GPU: this costs about a second for the full model
        try:
            proto = onnx.load(path, load_external_data=False)
            ops = {node.op_type for node in proto.graph.node}
        except Exception:  # not ONNX: onnxruntime reports it below
            ops = set()
        if ops & _CPU_ONLY_OPS:
            raise ValueError(f"'{path}': {_int8_on_gpu(device)}")
        _require_cuda(device, root)
    try:
        model = audonnx.Model(
            path, labels=labels, device=device, session_options=options
        )
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(f"Cannot load the model in '{root}': {ex}") from ex
    if device != "cpu":
        _require_cuda(device, root, model.sess.get_providers())
    return model


def fingerprint(root: str, *, cache_root: str | None = None) -> str:
    r"""Fingerprint of a model folder: what determines its outputs.

    That is the SHA256 of the folder's ``model.onnx``,
    the only ONNX file audemo runs
    (see :func:`read_model_folder`),
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
    so the SHA256 of ``model.onnx`` is remembered in
    ``<cache_root>/fingerprints/``
    and recomputed whenever the file's path, size,
    modification or status change time,
    inode or device change
    (a file swapped in with the old modification time
    gets a new status change time;
    a copied cache is hashed again once).
    A read-only cache is not an error:
    the file is then hashed on every call.

    Args:
        root: model folder
        cache_root: cache folder

    Returns:
        hexadecimal SHA256

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        RuntimeError: if ``model.onnx`` uses external data
        ValueError: if the folder is refused, see :func:`read_model_folder`

    Examples:
        >>> root = audemo.testing.create_model("my-model")
        >>> len(fingerprint(root))
        64

    """
    path, labels = read_model_folder(root)
    digest = _onnx_sha256(path, cache_root=cache_root)
    if labels in _STANDARD_LABELS:
        return digest
    text = json.dumps({"labels": labels, "onnx": digest}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _onnx_sha256(path: str, *, cache_root: str | None) -> str:
    # SHA256 of an ONNX file, remembered on disk and in this process
    path = os.path.realpath(path)
    stat = os.stat(path)
    record_path = os.path.join(
        resolve_cache_root(cache_root),
        "fingerprints",
        hashlib.sha256(path.encode()).hexdigest()[:32] + ".json",
    )
    stamp = {
        "path": path,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "ino": stat.st_ino,
        "dev": stat.st_dev,
    }
    try:
        with open(record_path) as fp:
            record = json.load(fp)
        digest = (
            record["sha256"]
            if all(record.get(key) == value for key, value in stamp.items())
            else None
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        digest = None
    key = tuple(stamp.values())
    if digest is None and key in _DIGESTS:
        # a read-only cache: hashed by this process already
        digest = _DIGESTS[key]
    if digest is None:
        digest = _sha256(path)
        _refuse_external_data(path)
        _DIGESTS[key] = digest
        try:
            _write_json_atomic(record_path, {**stamp, "sha256": digest})
        except OSError:
            pass  # a read-only cache works, it only hashes again
    return digest


def check_interface(root: str, *, source: str | None = None) -> None:
    r"""Check that a model folder has the emotion model's interface.

    Reads the folder with :func:`read_model_folder`,
    refuses external data,
    opens ``model.onnx`` with onnxruntime
    and requires the input ``signal`` (2-d)
    and the outputs ``logits`` (3 values, [1, 3],
    labelled arousal, dominance, valence if labelled)
    and ``hidden_states`` ([1, N]).

    Args:
        root: model folder
        source: where the model came from, used in error messages

    Raises:
        FileNotFoundError: if the folder holds no ``model.onnx``
        RuntimeError: if the model cannot be opened,
            uses external data
            or its interface differs
        ValueError: if the folder is refused, see :func:`read_model_folder`

    """
    path, labels = read_model_folder(root, source=source)
    source = source or root
    _refuse_external_data(path, source=source)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    try:
        session = onnxruntime.InferenceSession(
            path, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(
            f"The model from '{source}' cannot be opened by onnxruntime: {ex}"
        ) from ex
    inputs = {node.name: node.shape for node in session.get_inputs()}
    outputs = {node.name: node.shape for node in session.get_outputs()}
    problems = []
    if INPUT not in inputs or len(inputs[INPUT]) != 2:
        problems.append(f"input '{INPUT}' [1, samples] (has {inputs})")
    if "logits" not in outputs or outputs["logits"][-1:] != [len(DIMENSIONS)]:
        problems.append(
            f"output 'logits' [1, {len(DIMENSIONS)}] (has {outputs.get('logits')})"
        )
    elif isinstance(labels, dict) and labels.get("logits") not in (
        None,
        list(DIMENSIONS),
    ):
        problems.append(
            f"output 'logits' labelled {list(DIMENSIONS)} (has {labels['logits']})"
        )
    if "hidden_states" not in outputs or len(outputs["hidden_states"]) != 2:
        problems.append(
            f"output 'hidden_states' [1, N] (has {outputs.get('hidden_states')})"
        )
    if problems:
        raise RuntimeError(
            f"The model from '{source}' is not an emotion model: "
            f"it lacks {'; '.join(problems)}."
        )


def write_model_yaml(root: str, labels: object) -> str:
    r"""Write the ``model.yaml`` of a plain audonnx model with ``model.onnx``.

    The file has the form :func:`read_model_folder` accepts
    and :func:`audonnx.load` reads,
    without opening the ONNX file.

    Args:
        root: model folder
        labels: labels as :func:`read_model_folder` returns them

    Returns:
        path of the file

    """
    path = os.path.join(root, YAML_FILE)
    config = {
        f"$audonnx.core.model.Model=={audonnx.__version__}": {
            "path": MODEL_FILE,
            "labels": labels,
            "transform": None,
        }
    }
    with open(path, "w") as fp:
        yaml.safe_dump(config, fp, sort_keys=False)
    return path


def external_data(proto: onnx.ModelProto) -> list[str]:
    r"""External data files an ONNX model loaded without them refers to.

    Args:
        proto: model loaded with ``load_external_data=False``

    Returns:
        sorted file names, empty if the model is self-contained

    """
    helper = onnx.external_data_helper
    return sorted(
        {
            entry.value
            for tensor in helper._get_all_tensors(proto)
            if helper.uses_external_data(tensor)
            for entry in tensor.external_data
            if entry.key == "location"
        }
    )


@contextlib.contextmanager
def cache_lock(folder: str, *, cache_root: str | None):
    r"""Hold the file lock of a folder in the cache, creating its parent.

    Args:
        folder: folder in the cache that is about to be written
        cache_root: cache folder as the user gave it, for error messages

    Raises:
        PermissionError: if the parent folder or the lock cannot be written

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


def cache_folder(model: str, *, cache_root: str | None = None) -> str:
    r"""Folder in the cache that holds a registered or URL model."""
    url = MODELS[model].url if model in MODELS else model
    stem = os.path.basename(urllib.parse.urlparse(url).path)
    stem = audeer.replace_file_extension(stem, "").rstrip(".") or "model"
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    if model not in MODELS:
        stem = f"{stem}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    return os.path.join(resolve_cache_root(cache_root), "models", stem)


def _cached_download(model: str, *, cache_root: str | None, verbose: bool) -> str:
    folder = cache_folder(model, cache_root=cache_root)
    registered = MODELS.get(model)
    url = registered.url if registered else model
    pinned = registered.sha256 if registered else None
    check = dict(url=url, pinned=pinned, cache_root=cache_root)
    # a complete model is used without the lock: the cache may be read-only
    if _is_complete(folder, **check):
        return folder
    if _offline():
        raise RuntimeError(
            f"Model '{model}' is not in the cache ({folder}) "
            f"and AUDEMO_OFFLINE=1 forbids downloading it. "
            f"Download {url} on a machine with network access, "
            f"extract it and pass the folder as model, "
            f"or copy it to {folder}."
        )
    with cache_lock(folder, cache_root=cache_root):
        # another process may have finished while we waited for the lock
        if _is_complete(folder, **check, locked=True):
            return folder
        # temporary files are written only under the lock,
        # so those found now belong to a process that was killed
        pattern = glob.escape(folder)
        for stale in glob.glob(f"{pattern}.*.part.zip") + glob.glob(
            f"{pattern}.*.extract"
        ):
            _remove(stale)
        if os.path.exists(folder):
            # left over by a copy interrupted outside audemo
            shutil.rmtree(folder)
        token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        archive = f"{folder}.{token}.part.zip"
        extract_root = f"{folder}.{token}.extract"
        try:
            _download(url, archive, model=model, folder=folder, verbose=verbose)
            digest = _sha256(archive)
            if pinned and digest != pinned:
                raise RuntimeError(
                    f"The archive downloaded from {url} has SHA256 "
                    f"{digest}, expected {pinned}. "
                    f"It is corrupt or was replaced; nothing was cached."
                )
            root = _extract(archive, extract_root, url=url)
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
            _write_json_atomic(os.path.join(root, RECORD_FILE), record)
            os.replace(root, folder)
        finally:
            _remove(archive)
            _remove(extract_root)
    fingerprint(folder, cache_root=cache_root)
    return folder


def _is_complete(
    folder: str,
    *,
    url: str,
    pinned: str | None,
    cache_root: str | None,
    locked: bool = False,
) -> bool:
    # the folder appears by an atomic rename only after it was verified;
    # a file cut short or replaced later (disk full, an interrupted copy)
    # must not be used
    if not os.path.isfile(os.path.join(folder, MODEL_FILE)):
        return False
    record = _read_record(folder)
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
    if expected and (actual := _onnx_sha256(path, cache_root=cache_root)) != expected:
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


def _read_record(folder: str) -> dict | None:
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
    return {
        name: {"size": os.path.getsize(file), "sha256": _sha256(file)}
        for name in sorted(os.listdir(root))
        if os.path.isfile(file := os.path.join(root, name)) and name != RECORD_FILE
    }


def _verify_unrecorded(folder: str, *, url: str, locked: bool):
    # A folder without a record was copied into the cache by hand
    # (as the offline instructions suggest) or by an older audemo.
    # Refusing it would break those set-ups; using it unchecked would trust
    # anything with the right name. So check it as a download is checked,
    # once, and record its files so that later changes are found.
    # The archive's checksum cannot be known: the record says so.
    def check():
        try:
            check_interface(folder, source=folder)
        except RuntimeError as ex:
            raise _damaged(
                folder,
                f"it has no '{RECORD_FILE}' (copied by hand?) "
                f"and fails the checks of a download: {ex}",
            ) from ex

    record_path = os.path.join(folder, RECORD_FILE)
    lock = contextlib.nullcontext() if locked else cache_lock(folder, cache_root=None)
    try:
        with lock:
            if os.path.exists(record_path):
                return  # recorded by another process meanwhile
            check()
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
                _write_json_atomic(record_path, record)
            except OSError:
                return  # a read-only folder: checked again on every use
    except PermissionError:
        # a read-only cache cannot be recorded: checked on every use
        check()
        return
    warnings.warn(
        f"The model in '{folder}' has no '{RECORD_FILE}': it was not "
        f"downloaded by this audemo (copied by hand?). It passed the check of "
        f"its interface and its files are recorded now, but the checksum of "
        f"the archive it came from is unknown. To have it downloaded and "
        f"checked, delete the folder and run 'audemo download'.",
        stacklevel=5,
    )


def _damaged(folder: str, problem: str) -> RuntimeError:
    return RuntimeError(
        f"The cached model in '{folder}' is damaged: {problem}. "
        f"Delete '{folder}' and run again (or run 'audemo download') "
        f"to download it anew."
    )


def _offline() -> bool:
    value = os.environ.get("AUDEMO_OFFLINE", "").strip().lower()
    return value in ("1", "true", "yes", "on")


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    # urllib refuses redirects to file:// itself, but follows them to ftp://
    # and from https:// to http://, where the archive could be replaced
    # on the way; Zenodo redirects to other hosts of its own over https
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urllib.parse.urlparse(req.full_url).scheme
        new = urllib.parse.urlparse(newurl).scheme
        if new not in ("http", "https") or (old, new) == ("https", "http"):
            raise RuntimeError(
                f"The server of {req.full_url} redirects to {newurl}: refused "
                f"(audemo follows redirects to http(s) only, "
                f"and never from https to http). "
                f"Download the archive yourself if you trust that address."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    handlers = [_RedirectHandler]
    if loopback:
        # a proxy cannot reach this machine's own loopback interface
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _download_deadline() -> float:
    value = os.environ.get("AUDEMO_DOWNLOAD_DEADLINE")
    try:
        return float(value) if value else DOWNLOAD_DEADLINE
    except ValueError:
        raise ValueError(
            f"AUDEMO_DOWNLOAD_DEADLINE must be a number of seconds, not '{value}'."
        ) from None


def _download(
    url: str,
    path: str,
    *,
    model: str,
    folder: str,
    verbose: bool,
):
    from audemo import __version__

    deadline = _download_deadline()
    stop = time.monotonic() + deadline
    request = urllib.request.Request(
        url, headers={"User-Agent": f"audemo/{__version__}"}
    )
    hint = (
        f"Check the network connection, "
        f"or download {url} yourself, extract it "
        f"and pass the folder as model (or copy it to {folder})."
    )
    received = 0
    expected = None
    try:
        with _opener(url).open(request, timeout=READ_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length else None
            with (
                open(path, "wb") as fp,
                audeer.progress_bar(
                    total=expected,
                    desc=f"Download {model}"[:60],
                    disable=not verbose,
                ) as bar,
            ):
                while True:
                    if max(received, expected or 0) > MAX_DOWNLOAD_BYTES:
                        raise RuntimeError(
                            f"The archive of model '{model}' at {url} is larger "
                            f"than {MAX_DOWNLOAD_BYTES} bytes: refused. "
                            f"Nothing was cached. {hint}"
                        )
                    if time.monotonic() > stop:
                        raise RuntimeError(
                            f"Download of model '{model}' from {url} took longer "
                            f"than {deadline:g} s (received {received} of "
                            f"{expected or 'unknown'} bytes): stopped. "
                            f"Nothing was cached. Set $AUDEMO_DOWNLOAD_DEADLINE "
                            f"(seconds) for a slow connection. {hint}"
                        )
                    # read1 returns what has arrived, so the deadline is
                    # checked even if the server trickles
                    block = response.read1(CHUNK_SIZE)
                    if not block:
                        break
                    fp.write(block)
                    received += len(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as ex:
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: "
            f"HTTP {ex.code} {ex.reason}. {hint}"
        ) from ex
    except (OSError, http.client.HTTPException) as ex:
        reason = getattr(ex, "reason", None) or ex
        if received or isinstance(ex, http.client.IncompleteRead):
            raise RuntimeError(
                f"Download of model '{model}' from {url} was interrupted "
                f"after {received} of {expected or 'unknown'} bytes ({reason}). "
                f"Nothing was cached; run again to retry."
            ) from ex
        raise RuntimeError(
            f"Cannot download model '{model}' from {url}: {reason}. {hint}"
        ) from ex
    if expected is not None and received != expected:
        raise RuntimeError(
            f"Download of model '{model}' from {url} was interrupted "
            f"after {received} of {expected} bytes. "
            f"Nothing was cached; run again to retry."
        )


def _extract(archive: str, destination: str, *, url: str) -> str:
    try:
        with zipfile.ZipFile(archive) as zf:
            entries = zf.infolist()
            total = sum(entry.file_size for entry in entries)
            bombs = [
                entry.filename
                for entry in entries
                if entry.file_size > CHUNK_SIZE
                and entry.file_size > MAX_COMPRESSION_RATIO * entry.compress_size
            ]
            if len(entries) > MAX_ARCHIVE_ENTRIES or total > MAX_UNPACKED_BYTES:
                raise RuntimeError(
                    f"The archive downloaded from {url} unpacks to "
                    f"{len(entries)} files of {total} bytes, more than "
                    f"{MAX_ARCHIVE_ENTRIES} files or {MAX_UNPACKED_BYTES} bytes: "
                    f"refused, nothing was cached."
                )
            if bombs:
                raise RuntimeError(
                    f"The archive downloaded from {url} holds {bombs}, "
                    f"compressed more than {MAX_COMPRESSION_RATIO} times "
                    f"(a zip bomb, not model weights): refused, nothing was cached."
                )
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


def _check_labels(labels: object, what: str):
    def names(value: object) -> bool:
        return isinstance(value, list) and all(isinstance(x, str) for x in value)

    if (
        labels is None
        or names(labels)
        or isinstance(labels, dict)
        and all(
            isinstance(key, str) and (value is None or names(value))
            for key, value in labels.items()
        )
    ):
        return labels
    raise ValueError(
        f"{what} has labels {str(labels)[:200]}: refused. Labels are a list "
        f"of strings or a mapping of output names to lists of strings."
    )


def _refuse_external_data(path: str, *, source: str | None = None):
    try:
        proto = onnx.load(path, load_external_data=False)
    except Exception:  # not ONNX: onnxruntime reports it when it opens the file
        return
    external = external_data(proto)
    if external:
        raise RuntimeError(
            f"The ONNX file '{path}'"
            f"{f' of the model from {source}' if source else ''} "
            f"keeps weights in external data files {external}: refused, "
            f"since the model's fingerprint covers '{MODEL_FILE}' only. "
            f"Save the model as one file: "
            f"onnx.save(onnx.load(path), path, save_as_external_data=False)."
        )


def _remove(path: str):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(CHUNK_SIZE), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json_atomic(path: str, data: dict):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w") as fp:
            json.dump(data, fp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
