r"""Export of a trained categories classifier as an ONNX head.

:func:`save_categories` writes the pipeline of
:func:`audemo.train_categories` as an ONNX graph
(standardize, multiply, add, softmax):
data, not code, that needs neither scikit-learn to run
nor the version that trained it.
:func:`check_head_root` refuses a folder
where writing the head would destroy something.

"""

from __future__ import annotations

import json
import os
import typing

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper

import audeer
import audonnx

from audemo.core.categories.head import HEAD_INPUT
from audemo.core.categories.head import HEAD_OUTPUTS
from audemo.core.categories.head import METADATA_CLASSES
from audemo.core.categories.head import METADATA_CLASSIFIER
from audemo.core.categories.head import head_info
from audemo.core.categories.training import embedding_names
from audemo.core.model.api import MODEL_FILE
from audemo.core.model.folder import YAML_FILE


if typing.TYPE_CHECKING:  # pragma: no cover - scikit-learn is an extra
    import sklearn.pipeline


# a head is a few hundred kilobytes: a larger model.onnx is not one
_MAX_HEAD_BYTES = 64 * 1024 * 1024
_HEAD_FILES = {MODEL_FILE, YAML_FILE, MODEL_FILE + ".tmp"}
_OPSET = 17


def save_categories(
    classifier: sklearn.pipeline.Pipeline,
    root: str,
    *,
    overwrite: bool = False,
) -> str:
    r"""Save a categories classifier as an ONNX model folder.

    Writes the classifier from :func:`audemo.train_categories`
    as an :mod:`audonnx` model folder
    (``model.onnx`` + ``model.yaml``)
    that :class:`audemo.Categories` runs on the emotion model's embedding.
    The ONNX graph
    takes the input ``hidden_states``
    (float32 ``[batch, D]``),
    standardizes it,
    multiplies it with the classifier's weights,
    adds the bias
    and, for ``"logistic"``,
    applies the softmax function.
    Its output is ``probabilities`` (``"logistic"``)
    or ``scores`` (``"svc"``),
    one column per class.
    The numbers are those of the classifier's
    ``predict_proba()`` or ``decision_function()``
    up to float32 precision.
    With two classes
    ``"svc"`` gives the score of the second class
    and its negative for the first,
    so that the larger score is the predicted class.

    An ONNX file is data, not code:
    unlike a pickled scikit-learn object,
    loading it cannot execute anything,
    and it needs neither scikit-learn
    nor the version that trained the classifier.

    Args:
        classifier: fitted pipeline from :func:`audemo.train_categories`
        root: folder to write to (created if needed;
            an existing head there is replaced)
        overwrite: write into a folder that holds something else
            (e.g. an emotion model):
            its ``model.onnx`` and ``model.yaml`` are replaced,
            other files stay

    Returns:
        the model folder

    Raises:
        ValueError: if ``classifier`` is not a fitted pipeline
            from :func:`audemo.train_categories`,
            ``root`` is a file,
            or ``root`` holds something other than a head
            and ``overwrite`` is ``False``

    Examples:
        >>> import pandas as pd
        >>> embeddings = pd.DataFrame(
        ...     [[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.8, 0.3]],
        ...     columns=["hidden_states-0", "hidden_states-1"],
        ...     index=audformat.filewise_index(["a.wav", "b.wav", "c.wav", "d.wav"]),
        ... )
        >>> labels = pd.Series(["sad", "sad", "happy", "happy"], index=embeddings.index)
        >>> classifier = audemo.train_categories(embeddings, labels)
        >>> root = save_categories(classifier, "head")
        >>> sorted(os.listdir(root))
        ['model.onnx', 'model.yaml']
        >>> head = audonnx.load(root)
        >>> head(np.array([0.1, 0.9], dtype=np.float32)).round(2)
        array([[0.16, 0.84]], dtype=float32)
        >>> head.outputs["probabilities"].labels
        ['happy', 'sad']

    """  # noqa: E501
    kind, mean, scale, weights, bias, classes = _linear_parts(classifier)
    check_head_root(root, overwrite=overwrite)
    root = audeer.mkdir(root)
    output = HEAD_OUTPUTS[kind]
    proto = _head_proto(kind, mean, scale, weights, bias, classes)
    path = os.path.join(root, MODEL_FILE)
    # a reader never sees a half-written file with the old fingerprint's name
    temporary = path + ".tmp"
    onnx.save(proto, temporary)
    os.replace(temporary, path)
    audonnx.Model(path, labels={output: classes}).to_yaml(os.path.join(root, YAML_FILE))
    return root


def check_head_root(
    root: str,
    *,
    overwrite: bool = False,
    model_root: str | None = None,
    names: tuple[str, str] = ("root", "overwrite=True"),
):
    r"""Refuse a head folder where writing the head would destroy something.

    A head can go into a new or empty folder
    or replace a head there.
    A folder with anything else
    (an emotion model's ``model.onnx``, other files)
    needs ``overwrite``;
    the folder of the model in use is refused even then.

    Args:
        root: folder of the head
        overwrite: allow a folder that holds something else
        model_root: folder of the emotion model in use
        names: how the caller names ``root`` and ``overwrite`` in messages

    Raises:
        ValueError: if ``root`` is a file,
            the folder of ``model_root``,
            or holds something other than a head
            and ``overwrite`` is ``False``

    """
    where, flag = names
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(
            f"{where} '{root}' is a file: the head needs a folder of its own."
        )
    if not os.path.isdir(root):
        return
    if model_root is not None and _same_model(root, model_root):
        raise ValueError(
            f"{where} '{root}' is the folder of the emotion model in use: "
            f"the head would overwrite it. Choose another folder."
        )
    present = set(os.listdir(root))
    if overwrite or not present:
        return
    if present <= _HEAD_FILES and _is_head(os.path.join(root, MODEL_FILE)):
        return  # a previous head is replaced
    what = (
        f"a {MODEL_FILE} that is not a categories head (an emotion model?)"
        if MODEL_FILE in present
        else f"files that are not a categories head (e.g. {sorted(present)[0]})"
    )
    raise ValueError(
        f"{where} '{root}' holds {what}: choose a new or empty folder, "
        f"or add {flag} to write the head's {MODEL_FILE} and {YAML_FILE} into it."
    )


def _same_model(root: str, model_root: str) -> bool:
    r"""Whether ``root`` is ``model_root`` or shares its model file."""
    model = os.path.join(model_root, MODEL_FILE)
    head = os.path.join(root, MODEL_FILE)
    return os.path.samefile(root, model_root) or (
        os.path.exists(model) and os.path.exists(head) and os.path.samefile(model, head)
    )


def _is_head(path: str) -> bool:
    if not os.path.isfile(path) or os.path.getsize(path) > _MAX_HEAD_BYTES:
        return False
    with open(path, "rb") as fp:
        data = fp.read()
    try:
        head_info(data, path)
    except ValueError:
        return False
    return True


def _linear_parts(classifier: sklearn.pipeline.Pipeline) -> tuple:
    r"""Scaler and linear classifier of a pipeline, as float64 arrays."""
    steps = getattr(classifier, "steps", None) or []
    scaler, linear = [step[1] for step in steps] if len(steps) == 2 else (None, None)
    kind = {"LogisticRegression": "logistic", "LinearSVC": "svc"}.get(
        type(linear).__name__
    )
    if (
        type(scaler).__name__ != "StandardScaler"
        or kind is None
        or not hasattr(linear, "coef_")
    ):
        raise ValueError(
            "Only a fitted classifier from audemo.train_categories() can be saved: "
            "a scikit-learn pipeline of StandardScaler and "
            "LogisticRegression or LinearSVC."
        )
    names = getattr(scaler, "feature_names_in_", None)
    size = len(scaler.mean_)
    if names is not None and list(names) != embedding_names(size):
        raise ValueError(
            "The classifier was trained on other columns than the model's "
            "embedding (hidden_states-0, hidden_states-1, ...)."
        )
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    scale = (
        np.ones(size) if scaler.scale_ is None else np.asarray(scaler.scale_)
    ).astype(np.float64)
    weights = np.asarray(linear.coef_, dtype=np.float64)
    bias = np.asarray(linear.intercept_, dtype=np.float64).reshape(-1)
    classes = [str(name) for name in linear.classes_]
    if len(classes) == 2 and len(weights) == 1:
        # scikit-learn keeps one row for two classes: the second class's
        # logit (probability = sigmoid = softmax of [0, logit]) or score
        other = np.zeros_like if kind == "logistic" else np.negative
        weights = np.concatenate([other(weights), weights])
        bias = np.concatenate([other(bias), bias])
    return kind, mean, scale, weights, bias, classes


def _head_proto(
    kind: str,
    mean: np.ndarray,
    scale: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray,
    classes: list[str],
) -> onnx.ModelProto:
    output = HEAD_OUTPUTS[kind]

    def constant(name, value):
        return onnx.numpy_helper.from_array(
            np.asarray(value, dtype=np.float32), name=name
        )

    make = onnx.helper.make_node
    linear = "scores" if kind == "svc" else "logits"
    nodes = [
        make("Sub", [HEAD_INPUT, "mean"], ["centred"]),
        make("Div", ["centred", "scale"], ["standardized"]),
        make("MatMul", ["standardized", "weights"], ["product"]),
        make("Add", ["product", "bias"], [linear]),
    ]
    if kind == "logistic":
        nodes.append(make("Softmax", [linear], [output], axis=-1))
    graph = onnx.helper.make_graph(
        nodes,
        "audemo-categories",
        [
            onnx.helper.make_tensor_value_info(
                HEAD_INPUT, onnx.TensorProto.FLOAT, ["batch", len(mean)]
            )
        ],
        [
            onnx.helper.make_tensor_value_info(
                output, onnx.TensorProto.FLOAT, ["batch", len(classes)]
            )
        ],
        initializer=[
            constant("mean", mean),
            constant("scale", scale),
            constant("weights", weights.T),
            constant("bias", bias),
        ],
    )
    proto = onnx.helper.make_model(
        graph,
        producer_name="audemo.save_categories",
        opset_imports=[onnx.helper.make_opsetid("", _OPSET)],
        doc_string=(
            f"Emotion categories ({kind}) from the emotion model's embedding: "
            f"{', '.join(classes)}"
        ),
    )
    proto.ir_version = 8
    onnx.helper.set_model_props(
        proto,
        {METADATA_CLASSES: json.dumps(classes), METADATA_CLASSIFIER: kind},
    )
    onnx.checker.check_model(proto)
    return proto
