from __future__ import annotations

import os
import typing

import numpy as np

import audeer
import audonnx

from audemo.core.define import DIMENSIONS
from audemo.core.define import MIN_SAMPLES


if typing.TYPE_CHECKING:  # pragma: no cover - only read by type checkers
    import onnx


# wav2vec2's convolutional front end looks at 400 samples (25 ms)
# and moves by 320 samples (20 ms) at 16 kHz
RECEPTIVE_FIELD = MIN_SAMPLES
HOP = 320
OPSET = 17


def speech_file() -> str:
    r"""Path of ``speech.wav``, the speech file of the examples.

    4.2 seconds of synthetic English speech
    at 16 kHz, mono, 16 bit,
    shipped with audemo,
    so that the examples of the documentation
    run from an installed package.
    Copy it before you change it.

    Returns:
        absolute path of the file

    Examples:
        >>> audiofile.duration(speech_file())
        4.197

    """
    return os.path.join(os.path.dirname(__file__), "data", "speech.wav")


def create_model(
    root: str,
    *,
    hidden_size: int = 32,
    seed: int = 0,
) -> str:
    r"""Create a small test model with the interface of the emotion model.

    Writes an :mod:`audonnx` model folder
    (``model.onnx`` + ``model.yaml``)
    whose input and outputs match the released
    w2v2-L-robust-12 model:

    * input ``signal``: float32 ``[1, samples]`` at 16 kHz
    * output ``hidden_states``: float32 ``[1, hidden_size]``
    * output ``logits``: float32 ``[1, 3]``,
      labelled arousal, dominance, valence

    The graph is built from real ONNX operators:
    a strided convolution with the receptive field (400 samples)
    and hop (320 samples) of wav2vec2's front end,
    a ``tanh`` non-linearity,
    mean pooling over time (``hidden_states``)
    and a linear head squashed to 0..1 (``logits``).
    Like the real model it fails on signals
    shorter than 400 samples.
    Weights are random but deterministic for a given ``seed``.

    .. warning:: The outputs of this model are **not**
        emotion predictions.
        Use it for tests and examples only.

    Args:
        root: folder to write the model to (created if needed)
        hidden_size: size of the ``hidden_states`` output
        seed: seed of the random weights

    Returns:
        model folder

    Raises:
        ValueError: if ``hidden_size`` is smaller than 1

    Examples:
        >>> root = create_model("test-model")
        >>> model = audonnx.load(root)
        >>> model.outputs["logits"].labels
        ['arousal', 'dominance', 'valence']
        >>> signal = np.zeros((1, 16000), dtype=np.float32)
        >>> model(signal, 16000, outputs="hidden_states").shape
        (1, 32)

    """
    if hidden_size < 1:
        raise ValueError(f"hidden_size must be >= 1, not {hidden_size}.")
    # onnx (0.5 s to import) only where a model is built,
    # not at ``import audemo``
    import onnx

    root = audeer.mkdir(root)
    proto = _model_proto(hidden_size, seed)
    onnx_path = os.path.join(root, "model.onnx")
    onnx.save(proto, onnx_path)
    model = audonnx.Model(
        onnx_path,
        labels={"logits": list(DIMENSIONS)},
    )
    model.to_yaml(os.path.join(root, "model.yaml"))
    return root


def _model_proto(hidden_size: int, seed: int) -> onnx.ModelProto:
    import onnx.helper
    import onnx.numpy_helper

    rng = np.random.default_rng(seed)
    conv_weight = rng.normal(
        scale=4.0 / np.sqrt(RECEPTIVE_FIELD),
        size=(hidden_size, 1, RECEPTIVE_FIELD),
    ).astype(np.float32)
    conv_bias = rng.normal(scale=0.1, size=hidden_size).astype(np.float32)
    head_weight = rng.normal(
        scale=2.0 / np.sqrt(hidden_size),
        size=(hidden_size, len(DIMENSIONS)),
    ).astype(np.float32)
    head_bias = rng.normal(scale=0.1, size=len(DIMENSIONS)).astype(np.float32)

    def constant(name, value):
        return onnx.numpy_helper.from_array(np.asarray(value), name=name)

    initializers = [
        constant("conv_weight", conv_weight),
        constant("conv_bias", conv_bias),
        constant("head_weight", head_weight),
        constant("head_bias", head_bias),
        constant("channel_axis", np.array([1], dtype=np.int64)),
        constant("half", np.array(0.5, dtype=np.float32)),
    ]
    make = onnx.helper.make_node
    nodes = [
        make("Unsqueeze", ["signal", "channel_axis"], ["signal_3d"]),
        make(
            "Conv",
            ["signal_3d", "conv_weight", "conv_bias"],
            ["frames"],
            kernel_shape=[RECEPTIVE_FIELD],
            strides=[HOP],
        ),
        make("Tanh", ["frames"], ["activations"]),
        make("ReduceMean", ["activations"], ["hidden_states"], axes=[2], keepdims=0),
        make("MatMul", ["hidden_states", "head_weight"], ["head"]),
        make("Add", ["head", "head_bias"], ["head_biased"]),
        make("Tanh", ["head_biased"], ["head_tanh"]),
        make("Mul", ["head_tanh", "half"], ["head_scaled"]),
        make("Add", ["head_scaled", "half"], ["logits"]),
    ]
    graph = onnx.helper.make_graph(
        nodes,
        "audemo-test-model",
        [
            onnx.helper.make_tensor_value_info(
                "signal", onnx.TensorProto.FLOAT, [1, "samples"]
            )
        ],
        [
            onnx.helper.make_tensor_value_info(
                "hidden_states", onnx.TensorProto.FLOAT, [1, hidden_size]
            ),
            onnx.helper.make_tensor_value_info(
                "logits", onnx.TensorProto.FLOAT, [1, len(DIMENSIONS)]
            ),
        ],
        initializer=initializers,
    )
    proto = onnx.helper.make_model(
        graph,
        producer_name="audemo.testing",
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
    )
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto
