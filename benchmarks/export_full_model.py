r"""Export a full-size model with RANDOM weights, for speed measurements.

Builds the architecture of the released emotion model
(wav2vec2-large-robust pruned to 12 transformer layers,
mean pooling over time, regression head with 3 outputs)
with random weights,
and exports it as an audonnx model folder
with the real model's interface:
input ``signal`` [1, samples] (float32, 16 kHz),
outputs ``hidden_states`` [1, 1024] and ``logits`` [1, 3].

The speed of the model does not depend on its weights,
so the folder can stand in for the real model
when measuring time and memory
(e.g. ``audemo.Emotion(model=ROOT)``).

THIS IS NOT AN EMOTION MODEL.
Its weights are random,
its ``logits`` are meaningless numbers
and must never be presented or used as
arousal, dominance or valence predictions.
The labels in ``model.yaml`` only give it the real model's interface.

After the export the script loads the folder with audonnx,
compares its outputs on 1 s of random signal with the torch model,
and checks the interface with ``audemo.core.model.folder.check_interface``.

Needs ``torch`` and ``transformers``
(a CPU build of torch is enough), e.g.::

    pip install torch==2.13.0 transformers

Usage::

    python benchmarks/export_full_model.py /tmp/full-model

The ONNX file has about 660 MB:
write it outside the repository and never commit it.

"""

import argparse
import os
import sys
import time
import warnings


# Python puts this script's folder first on sys.path,
# where benchmarks/profile.py hides the standard library's profile module,
# which torch imports (through cProfile)
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != _HERE]

import numpy as np  # noqa: E402 (after the path fix above)

import audonnx  # noqa: E402


SAMPLING_RATE = 16000
INPUT = "signal"
OUTPUTS = ["hidden_states", "logits"]
LABELS = ["arousal", "dominance", "valence"]
MODEL_FILE = "model.onnx"
YAML_FILE = "model.yaml"
NOTE_FILE = "README.txt"
NOTE = """\
RANDOM WEIGHTS - NOT AN EMOTION MODEL

This folder holds the architecture of audEERING's wav2vec2 dimensional
emotion model (wav2vec2-large-robust, 12 layers, regression head)
with random weights (seed {seed}), written by
benchmarks/export_full_model.py of audemo for speed measurements only.
Its outputs are meaningless: never present or use them as
arousal, dominance or valence predictions.
"""

# Configuration of the released model
# (audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim),
# dropout switched off as it is at inference.
CONFIG = dict(
    hidden_size=1024,
    num_attention_heads=16,
    intermediate_size=4096,
    num_hidden_layers=12,
    conv_dim=(512,) * 7,
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    feat_extract_norm="layer",
    do_stable_layer_norm=True,
    conv_bias=True,
    num_conv_pos_embeddings=128,
    num_conv_pos_embedding_groups=16,
    feat_extract_activation="gelu",
    hidden_act="gelu",
    layer_norm_eps=1e-5,
    hidden_dropout=0.0,
    activation_dropout=0.0,
    attention_dropout=0.0,
    feat_proj_dropout=0.0,
    final_dropout=0.0,
    layerdrop=0.0,
    # plain matrix products and softmax in the graph,
    # as in the released ONNX export
    attn_implementation="eager",
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Export the full-size architecture of the emotion model "
            "(wav2vec2-large-robust, 12 layers, regression head) "
            "with RANDOM weights as an audonnx model folder, "
            "for speed measurements only. "
            "THIS IS NOT AN EMOTION MODEL: its outputs are meaningless "
            "and must never be presented as arousal, dominance "
            "or valence predictions. "
            "Needs torch and transformers. "
            "The ONNX file has about 660 MB: "
            "write it outside the repository."
        ),
    )
    parser.add_argument(
        "root",
        help="output folder (created if needed)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random weights (default: %(default)s)",
    )
    parser.add_argument(
        "--opset",
        type=int,
        default=17,
        help="ONNX opset version (default: %(default)s)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"overwrite {MODEL_FILE} and {YAML_FILE} if they exist in ROOT",
    )
    return parser.parse_args(argv)


def build_model(seed: int):
    r"""Wav2vec2 with mean pooling and regression head, random weights."""
    import torch
    import transformers

    class RegressionHead(torch.nn.Module):
        def __init__(self, hidden_size: int, num_labels: int):
            super().__init__()
            self.dense = torch.nn.Linear(hidden_size, hidden_size)
            self.out_proj = torch.nn.Linear(hidden_size, num_labels)

        def forward(self, x):
            return self.out_proj(torch.tanh(self.dense(x)))

    class EmotionArchitecture(torch.nn.Module):
        def __init__(self, config):
            super().__init__()
            self.wav2vec2 = transformers.Wav2Vec2Model(config)
            self.classifier = RegressionHead(config.hidden_size, len(LABELS))

        def forward(self, signal):
            last_hidden_state = self.wav2vec2(signal)[0]  # [1, frames, 1024]
            hidden_states = last_hidden_state.mean(dim=1)  # [1, 1024]
            logits = self.classifier(hidden_states)  # [1, 3]
            return hidden_states, logits

    torch.manual_seed(seed)
    config = transformers.Wav2Vec2Config(**CONFIG)
    model = EmotionArchitecture(config)
    model.eval()
    return model


def export(model, path: str, opset: int):
    r"""Export with the TorchScript exporter, dynamic number of samples."""
    import torch

    signal = 0.1 * torch.randn(1, SAMPLING_RATE)
    with warnings.catch_warnings(), torch.no_grad():
        # the legacy exporter is deprecated, and the tracer warns
        # about Python booleans that are constant for this model
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (signal,),
            path,
            input_names=[INPUT],
            output_names=OUTPUTS,
            dynamic_axes={INPUT: {1: "samples"}},
            opset_version=opset,
            do_constant_folding=True,
            # the dynamo exporter needs onnxscript
            # and writes the weights to an extra file
            dynamo=False,
        )


def mark_random(path: str, seed: int):
    r"""Write a note into the ONNX file that its weights are random."""
    import onnx

    proto = onnx.load(path)
    proto.doc_string = NOTE.format(seed=seed)
    entry = proto.metadata_props.add()
    entry.key = "random_weights"
    entry.value = f"true (seed {seed}), not an emotion model"
    onnx.save(proto, path)


def check(model, root: str, seed: int) -> float:
    r"""Compare audonnx with torch on 1 s of signal, check the interface."""
    import torch

    import audemo.core.model.folder

    rng = np.random.default_rng(seed)
    signal = (0.1 * rng.standard_normal((1, SAMPLING_RATE))).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(signal))
    expected = dict(zip(OUTPUTS, [y.numpy() for y in expected]))
    onnx_model = audonnx.load(root)
    outputs = onnx_model(signal, SAMPLING_RATE)
    max_diff = 0.0
    for name in OUTPUTS:
        if outputs[name].shape != expected[name].shape:
            raise RuntimeError(
                f"Output '{name}' has shape {outputs[name].shape}, "
                f"torch gives {expected[name].shape}."
            )
        diff = float(np.abs(outputs[name] - expected[name]).max())
        print(f"max abs diff torch vs onnx, {name}: {diff:.2e}")
        max_diff = max(max_diff, diff)
    audemo.core.model.folder.check_interface(root)
    print("audemo.core.model.folder.check_interface: ok")
    return max_diff


def main(argv=None) -> int:
    args = parse_args(argv)
    root = os.path.abspath(args.root)
    onnx_path = os.path.join(root, MODEL_FILE)
    yaml_path = os.path.join(root, YAML_FILE)
    existing = [p for p in (onnx_path, yaml_path) if os.path.exists(p)]
    if existing and not args.force:
        print(
            f"error: {', '.join(existing)} exist(s), use --force to overwrite",
            file=sys.stderr,
        )
        return 2

    import torch

    os.makedirs(root, exist_ok=True)
    print(f"torch {torch.__version__}, seed {args.seed}, opset {args.opset}")
    print("RANDOM WEIGHTS: not an emotion model, for speed measurements only")

    start = time.perf_counter()
    model = build_model(args.seed)
    num_params = sum(p.numel() for p in model.parameters())
    print(
        f"built model: {num_params:,} parameters in {time.perf_counter() - start:.1f} s"
    )

    start = time.perf_counter()
    export(model, onnx_path, args.opset)
    mark_random(onnx_path, args.seed)
    export_time = time.perf_counter() - start
    audonnx.Model(onnx_path, labels={"logits": LABELS}).to_yaml(yaml_path)
    with open(os.path.join(root, NOTE_FILE), "w") as fp:
        fp.write(NOTE.format(seed=args.seed))
    size = os.path.getsize(onnx_path)
    print(
        f"exported {onnx_path}: {size / 1e6:.1f} MB ({size:,} bytes) "
        f"in {export_time:.1f} s"
    )

    max_diff = check(model, root, args.seed)
    if max_diff >= 1e-3:
        print(f"error: torch and onnx differ by {max_diff:.2e}", file=sys.stderr)
        return 1
    print(f"done: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
