r"""Where the time goes, and how close it is to what the CPU can do.

Two measurements explain the speed of ``benchmarks/performance.py``:

1. onnxruntime's own profiler on one input of ``--seconds`` seconds,
   float32 and int8 (the model audemo makes with ``precision="int8"``):
   the share of each operator type
   and of the convolutional front end
   (nodes under ``feature_extractor``).
2. The ceiling: one matrix multiplication of the transformer's shape
   (``frames x 1024`` times ``1024 x 4096``)
   as a bare onnxruntime graph,
   in float32 (``MatMul``)
   and int8 (``DynamicQuantizeLinear`` + ``MatMulInteger``,
   what the int8 model runs),
   in GFLOP/s.
   Multiplications are ~90 % of the model's work
   (about 20.7 + 0.123·L GFLOP per audio second for L-second inputs),
   so their best rate bounds the real-time factor.

Run on the full-size model of ``benchmarks/export_full_model.py``::

    python benchmarks/profile.py /data/full-model --seconds 10

Without a model folder the small test model is used
(the numbers then only check that the script works).

"""

import argparse
import collections
import json
import os
import statistics
import tempfile
import time

from common import add_model_argument
from common import speech_like
import numpy as np


def profile(path: str, seconds: float, runs: int, threads: int) -> dict:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_mem_pattern = False  # as audemo runs it
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(tempfile.mkdtemp(), "profile")
    session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )
    signal = speech_like(seconds)[None]
    session.run(None, {"signal": signal})  # warm up
    started = time.perf_counter()
    for _ in range(runs):
        session.run(None, {"signal": signal})
    wall = (time.perf_counter() - started) / runs
    events = json.load(open(session.end_profiling()))
    by_type = collections.Counter()
    front_end = 0
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        by_type[event["args"]["op_name"]] += event["dur"]
        if "feature_extractor" in event["name"]:
            front_end += event["dur"]
    total = sum(by_type.values())
    return {
        "rtf": wall / seconds,
        "front_end_share": front_end / total,
        "op_shares": {op: value / total for op, value in by_type.most_common(8)},
    }


def matmul_rate(kind: str, frames: int, runs: int, threads: int) -> float:
    r"""GFLOP/s of one transformer-sized multiplication."""
    import onnx
    import onnx.helper
    import onnxruntime

    rng = np.random.default_rng(0)
    inner, outer = 1024, 4096
    if kind == "fp32":
        weights = onnx.numpy_helper.from_array(
            rng.standard_normal((inner, outer)).astype(np.float32), "w"
        )
        nodes = [onnx.helper.make_node("MatMul", ["x", "w"], ["y"])]
        output_type = onnx.TensorProto.FLOAT
    else:
        weights = onnx.numpy_helper.from_array(
            rng.integers(-127, 127, (inner, outer)).astype(np.int8), "w"
        )
        nodes = [
            onnx.helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
            onnx.helper.make_node("MatMulInteger", ["q", "w", "z"], ["y"]),
        ]
        output_type = onnx.TensorProto.INT32
    graph = onnx.helper.make_graph(
        nodes,
        "matmul",
        [
            onnx.helper.make_tensor_value_info(
                "x", onnx.TensorProto.FLOAT, [None, inner]
            )
        ],
        [onnx.helper.make_tensor_value_info("y", output_type, [None, outer])],
        initializer=[weights],
    )
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", 17)]
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    x = rng.standard_normal((frames, inner)).astype(np.float32)
    session.run(None, {"x": x})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(None, {"x": x})
        times.append(time.perf_counter() - started)
    return 2 * frames * inner * outer / statistics.median(times) / 1e9


def main():
    parser = argparse.ArgumentParser(
        description=(
            "Profile the model by operator type (float32 and int8) and measure "
            "the best rate of a transformer-sized matrix multiplication."
        ),
        epilog="See the module docstring for details.",
    )
    add_model_argument(parser)
    parser.add_argument("--seconds", type=float, default=10.0, help="input length")
    parser.add_argument("--runs", type=int, default=5, help="repetitions")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count(), help="onnxruntime threads"
    )
    parser.add_argument("--output", help="write the results as JSON to this file")
    args = parser.parse_args()

    import audemo
    from audemo.core.model.precision import precision_root

    with tempfile.TemporaryDirectory() as tmp:
        root = args.model or audemo.testing.create_model(os.path.join(tmp, "model"))
        cache_root = os.path.join(tmp, "cache") if args.model is None else None
        results = {}
        for precision in ("fp32", "int8"):
            folder = precision_root(root, precision, cache_root=cache_root)
            results[precision] = profile(
                os.path.join(folder, "model.onnx"),
                args.seconds,
                args.runs,
                args.threads,
            )
    # frames of the transformer for this input: one per 20 ms
    frames = int(args.seconds * 50)
    for kind in ("fp32", "int8"):
        results[f"matmul_{kind}_gflops"] = matmul_rate(
            kind, frames, args.runs, args.threads
        )

    for precision in ("fp32", "int8"):
        result = results[precision]
        print(
            f"{precision}: RTF {result['rtf']:.3f} at {args.seconds:g} s, "
            f"convolutional front end {result['front_end_share']:.0%} of the time"
        )
        for op, share in result["op_shares"].items():
            print(f"    {op:<26}{share:6.1%}")
    print(
        f"matmul {frames}x1024 @ 1024x4096: "
        f"float32 {results['matmul_fp32_gflops']:.0f} GFLOP/s, "
        f"int8 {results['matmul_int8_gflops']:.0f} GOP/s "
        f"({results['matmul_int8_gflops'] / results['matmul_fp32_gflops']:.2f}x)"
    )
    if args.output:
        with open(args.output, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
