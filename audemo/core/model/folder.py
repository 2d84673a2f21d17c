r"""A model folder: read without running code, write, check its interface."""

from __future__ import annotations

import os
import re
import zipfile

import onnx
import yaml

import audeer
import audonnx

from audemo.core.define import DIMENSIONS
from audemo.core.define import INPUT
from audemo.core.model.registry import MODELS
from audemo.core.ort import cpu_session
from audemo.core.ort import session_options
from audemo.core.safe_yaml import read_yaml_bytes
from audemo.core.safe_yaml import safe_load


MODEL_FILE = "model.onnx"
r"""The ONNX file of a model folder, the only one audemo runs."""

YAML_FILE = "model.yaml"
r"""The YAML file of an audonnx model folder."""

LABELS_FILE = "labels.yaml"
r"""Labels of a legacy model folder without ``model.yaml``."""

TRANSFORM_FILE = "transform.yaml"
r"""Transform of a legacy model folder, refused."""

_MODEL_KEY = re.compile(r"\$?audonnx\.core\.model\.Model(==[0-9A-Za-z.+!_-]+)?")
_EXPECTED = (
    f"Expected a plain audonnx model: "
    f"'$audonnx.core.model.Model==<version>:' with 'path: {MODEL_FILE}', "
    f"'labels' and 'transform: null' under it, "
    f"as audonnx.Model(...).to_yaml() writes."
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
    the file the fingerprint hashes
    (see :func:`audemo.core.fingerprint.fingerprint`),
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
    path = _onnx_file(root, source)
    yaml_path = os.path.join(root, YAML_FILE)
    if not os.path.exists(yaml_path):
        return path, _legacy_labels(root, source)
    what = _describe(root, YAML_FILE, source)
    config = safe_load(read_yaml_bytes(yaml_path, what=what), source=what)
    entries = _model_entries(config, what)
    _check_model_entries(entries, what)
    return path, check_labels(entries.get("labels"), what)


def _describe(root: str, file: str, source: str | None) -> str:
    r"""A file of the folder as error messages name it."""
    if source:
        return f"'{file}' of the model from {source}"
    return f"'{os.path.join(root, file)}'"


def _onnx_file(root: str, source: str | None) -> str:
    r"""The folder's ``model.onnx``, inside the folder, without a transform."""
    path = os.path.join(root, MODEL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Model folder '{root}' holds no '{MODEL_FILE}'.{subfolder_hint(root)}"
        )
    real_root = os.path.realpath(root)
    if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
        raise ValueError(
            f"{_describe(root, MODEL_FILE, source)} links to "
            f"'{os.path.realpath(path)}' "
            f"outside the folder: refused. Copy the file into the folder."
        )
    if os.path.exists(os.path.join(root, TRANSFORM_FILE)):
        raise ValueError(
            f"{_describe(root, TRANSFORM_FILE, source)}: audemo does not load "
            f"transforms from model folders (audobject would create any Python "
            f"object the file names). The emotion model takes the raw signal: "
            f"delete '{TRANSFORM_FILE}' if the model does not need it."
        )
    return path


def _legacy_labels(root: str, source: str | None):
    r"""Labels of a folder without ``model.yaml``: ``labels.yaml`` or none."""
    labels_path = os.path.join(root, LABELS_FILE)
    if not os.path.exists(labels_path):
        return None
    what = _describe(root, LABELS_FILE, source)
    labels = safe_load(read_yaml_bytes(labels_path, what=what), source=what)
    return check_labels(labels, what)


def _model_entries(config: object, what: str) -> dict:
    r"""The entries under the single key ``$audonnx.core.model.Model``."""
    if not isinstance(config, dict) or len(config) != 1:
        raise ValueError(f"{what} does not describe one model: refused. {_EXPECTED}")
    ((key, entries),) = config.items()
    if not isinstance(key, str) or not _MODEL_KEY.fullmatch(key):
        raise ValueError(
            f"{what} describes a '{key}', not a model: refused. {_EXPECTED}"
        )
    entries = {} if entries is None else entries
    if not isinstance(entries, dict):
        raise ValueError(f"{what} has no entries under '{key}': refused. {_EXPECTED}")
    return entries


def _check_model_entries(entries: dict, what: str):
    r"""Accept only ``path: model.onnx``, labels and ``transform: null``."""
    unknown = sorted(map(str, set(entries) - {"path", "labels", "transform"}))
    if unknown:
        raise ValueError(f"{what} has unknown entries {unknown}: refused. {_EXPECTED}")
    if entries.get("transform") is not None:
        raise ValueError(
            f"{what} has a transform: audemo does not load transforms "
            f"from model folders (audobject would create any Python object "
            f"it names). Set 'transform: null' if the model takes the raw signal."
        )
    model_path = entries.get("path")
    if not isinstance(model_path, str) or os.path.normpath(model_path) != MODEL_FILE:
        raise ValueError(
            f"{what} has 'path: {model_path}': refused. "
            f"audemo runs only the folder's own '{MODEL_FILE}', "
            f"the file its fingerprint covers: "
            f"name the ONNX file '{MODEL_FILE}' and set 'path: {MODEL_FILE}'."
        )


def check_labels(labels: object, what: str):
    r"""Labels as audonnx takes them, or an error.

    Args:
        labels: labels read from a YAML file
        what: the file, for error messages

    Returns:
        ``labels``

    Raises:
        ValueError: if ``labels`` is neither ``None``,
            a list of strings
            nor a mapping of output names to lists of strings (or ``None``)

    Examples:
        >>> check_labels({"logits": ["a", "b", "c"]}, "model.yaml")
        {'logits': ['a', 'b', 'c']}

    """

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


def local_folder(model: str) -> str:
    r"""The folder a model reference names that is neither registered nor a URL.

    Args:
        model: model reference

    Returns:
        absolute path of the folder

    Raises:
        FileNotFoundError: if the folder does not exist
            or is a zip archive
        ValueError: if ``model`` looks like a name, not a path

    Examples:
        >>> local_folder("audio") == os.path.abspath("audio")
        True

    """
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


def subfolder_hint(root: str) -> str:
    r"""Hint at sub-folders that hold a model, for a folder that holds none.

    An archive extracted into a folder of its own
    (as ``unzip -d`` and file managers do)
    gives a folder that holds the model folder.

    Args:
        root: folder without ``model.onnx``

    Returns:
        a sentence that starts with a space, or ``""``

    Examples:
        >>> root = audemo.testing.create_model("outer/inner")
        >>> subfolder_hint("outer").endswith("holds the model: pass that folder.")
        True

    """
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

    Examples:
        >>> path = write_model_yaml(audeer.mkdir("folder"), ["a", "b"])
        >>> print(open(path).read().split(":")[0][:26])
        $audonnx.core.model.Model=

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

    Every tensor of the model is looked at,
    wherever the protobuf holds one:
    initializers, sparse initializers (their values and indices),
    attributes and sparse attributes of nodes,
    subgraphs and functions.
    A tensor counts as external
    if its ``data_location`` is ``EXTERNAL``
    or it has ``external_data`` entries.

    Args:
        proto: model loaded with ``load_external_data=False``

    Returns:
        sorted file names, empty if the model is self-contained;
        an external tensor without a ``location`` counts as ``"?"``

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> external_data(onnx.load("model/model.onnx"))
        []

    """
    # a generic walk over every message of the protobuf:
    # onnx's own tensor iterator skips sparse tensors,
    # which onnxruntime loads from external files all the same
    files = set()
    messages = [proto]
    while messages:
        message = messages.pop()
        if isinstance(message, onnx.TensorProto) and (
            message.data_location == onnx.TensorProto.EXTERNAL
            or len(message.external_data) > 0
        ):
            entries = message.external_data
            locations = [entry.value for entry in entries if entry.key == "location"]
            files.update(locations or ["?"])
        for field, value in message.ListFields():
            if field.type != field.TYPE_MESSAGE:
                continue
            if hasattr(value, "ListFields"):  # a single message
                messages.append(value)
            else:  # repeated messages (ONNX protobufs have no maps)
                messages.extend(value)
    return sorted(files)


def refuse_external_data(
    path: str, *, source: str | None = None, data: bytes | None = None
):
    r"""Refuse an ONNX file that keeps weights in external data files.

    The fingerprint covers ``model.onnx`` only:
    weights elsewhere would change the outputs unseen.
    Tensors anywhere in the model are checked
    (see :func:`external_data`).
    A file that is not ONNX passes:
    onnxruntime reports it when it opens the file.

    Args:
        path: ONNX file
        source: where the model came from, used in error messages
        data: the file's bytes if they were read already:
            these bytes are checked, not the file

    Raises:
        RuntimeError: if the model uses external data

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> refuse_external_data("model/model.onnx")

    """
    try:
        if data is None:
            proto = onnx.load(path, load_external_data=False)
        else:
            proto = onnx.load_from_string(data)
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

    Examples:
        >>> check_interface(audemo.testing.create_model("model"))

    """
    path, labels = read_model_folder(root, source=source)
    source = source or root
    refuse_external_data(path, source=source)
    try:
        session = cpu_session(path, session_options(optimize=False))
    except Exception as ex:  # onnxruntime raises its own exception types
        raise RuntimeError(
            f"The model from '{source}' cannot be opened by onnxruntime: {ex}"
        ) from ex
    inputs = {node.name: node.shape for node in session.get_inputs()}
    outputs = {node.name: node.shape for node in session.get_outputs()}
    problems = _interface_problems(inputs, outputs, labels)
    if problems:
        raise RuntimeError(
            f"The model from '{source}' is not an emotion model: "
            f"it lacks {'; '.join(problems)}."
        )


def _interface_problems(inputs: dict, outputs: dict, labels: object) -> list[str]:
    r"""What the emotion model's interface needs and a model lacks."""
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
    return problems
