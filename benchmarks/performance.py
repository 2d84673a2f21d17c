r"""Speed and memory of audemo against the authors' recipe.

Compares, on the same machine and in the same run:

* ``recipe``: the how-to recipe (audeering/w2v2-how-to, nkululeko):
  ``audonnx.load(root)`` and an ``audinterface.Feature``
  with ``process_func_args={"outputs": "logits"}``,
  plus a second such Feature for ``hidden_states``
  when the embedding is needed too.
  ``recipe`` uses audonnx's default of one onnxruntime thread,
  ``recipe-tuned`` gives it all cores.
* ``audemo``: ``audemo.Emotion`` with its defaults
  (one model run for both outputs, threads = cores,
  chunks of 20 s), and ``audemo-int8`` with ``precision="int8"``.
  ``audemo-2x1`` runs 2 files at once with one onnxruntime thread each,
  ``audemo-2proc`` the same in 2 worker processes.
* ``onnxruntime``: a bare ``InferenceSession`` on signals in memory
  (no file reading, no resampling, default session options).

Every measurement runs in a fresh process
(peak memory from ``VmHWM``, model load time),
as the median of ``--runs`` repetitions.
Inputs are synthesized, speech-like signals
(bursts of modulated noise with pauses).

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``:
its outputs are **not** emotion predictions,
but its speed is that of the real model::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/performance.py /data/full-model --output perf.json

Without a model folder the small test model is used,
which checks that the harness works (CI does that).

"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import add_model_argument
from common import peak_rss_mb
from common import speech_like
import numpy as np

import audiofile


DURATIONS = (1, 4, 10, 30)


# ----- one measurement, in its own process ---------------------------------


def build(method: str, root: str, outputs: list[str], threads: int):
    r"""Return a function that processes a list of files, and the load time."""
    start = time.perf_counter()
    if method in ("recipe", "recipe-tuned"):
        import audinterface
        import audonnx

        model = audonnx.load(root, num_workers=1 if method == "recipe" else threads)
        features = [
            audinterface.Feature(
                model.labels(name),
                process_func=model,
                process_func_args={"outputs": name},
                sampling_rate=16000,
                resample=True,
            )
            for name in outputs
        ]

        def run(files):
            return [feature.process_files(files) for feature in features]

    elif method.startswith("audemo"):
        import audemo

        # audemo-2x1: 2 workers (threads) x 1 onnxruntime thread,
        # audemo-2proc: 2 worker processes x 1 onnxruntime thread
        interface = audemo.Emotion(
            root,
            outputs=outputs,
            precision="int8" if method == "audemo-int8" else "fp32",
            num_workers=2 if method in ("audemo-2x1", "audemo-2proc") else 1,
            multiprocessing=method == "audemo-2proc",
        )

        def run(files):
            return interface.process_files(files)

    elif method == "onnxruntime":
        import onnxruntime

        session = onnxruntime.InferenceSession(
            os.path.join(root, "model.onnx"), providers=["CPUExecutionProvider"]
        )

        def run(files):
            for file in files:
                signal, _ = audiofile.read(file, always_2d=True)
                session.run(outputs, {"signal": signal})

    else:
        raise ValueError(f"Unknown method '{method}'.")
    return run, time.perf_counter() - start


def measure(config: dict) -> dict:
    run, load_seconds = build(
        config["method"], config["root"], config["outputs"], config["threads"]
    )
    files = config["files"]
    run(files[:1])  # warm up: first run allocates onnxruntime's buffers
    times = []
    for _ in range(config["runs"]):
        start = time.perf_counter()
        run(files)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "seconds": seconds,
        "rtf": seconds / config["audio_seconds"],
        "load_seconds": load_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def in_process(config: dict, timeout: float) -> dict:
    try:
        result = subprocess.run(
            [sys.executable, __file__, "_measure", json.dumps(config)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["killed"])[-1]
        return {"error": f"exit {result.returncode}: {last[:200]}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ----- the harness ------------------------------------------------------------


def main():
    if sys.argv[1:2] == ["_measure"]:
        # a measurement in its own process, started by the harness below
        print(json.dumps(measure(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(
        description=(
            "Measure audemo against the how-to recipe and bare onnxruntime: "
            "real-time factor, ratio to the recipe, peak memory, load time."
        ),
        epilog="See the module docstring for details.",
    )
    add_model_argument(parser)
    parser.add_argument("--runs", type=int, default=5, help="repetitions (median)")
    parser.add_argument(
        "--files", type=int, default=200, help="number of files of 2-12 s"
    )
    parser.add_argument(
        "--long-minutes",
        type=float,
        default=20.0,
        help="duration of the long recording in minutes (0 to skip)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count(),
        help="threads for the tuned recipe (default: all cores)",
    )
    parser.add_argument(
        "--methods",
        default="recipe,recipe-tuned,audemo,audemo-int8,onnxruntime",
        help="comma-separated methods to run",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per measurement"
    )
    parser.add_argument(
        "--cases",
        default="single,corpus,long",
        help="comma-separated: single (1/4/10/30 s), corpus, long",
    )
    parser.add_argument("--output", help="write the results as JSON to this file")
    args = parser.parse_args()

    methods = args.methods.split(",")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.model
        if root is None:
            import audemo

            root = audemo.testing.create_model(os.path.join(tmp, "model"))
        root = os.path.abspath(root)

        def write(name, signal):
            path = os.path.join(tmp, name)
            audiofile.write(path, signal, 16000)
            return path

        cases = []
        kinds = args.cases.split(",")
        if "single" in kinds:
            for seconds in DURATIONS:
                signal = speech_like(seconds)
                cases.append((f"{seconds} s", [write(f"{seconds}s.wav", signal)]))
        if "corpus" in kinds:
            rng = np.random.default_rng(1)
            corpus = [
                write(f"corpus-{i:03d}.wav", speech_like(rng.uniform(2, 12), seed=i))
                for i in range(args.files)
            ]
            cases.append((f"{args.files} files 2-12 s", corpus))
        if "long" in kinds and args.long_minutes > 0:
            long = write("long.wav", speech_like(args.long_minutes * 60, seed=99))
            cases.append((f"{args.long_minutes:g} min", [long]))

        for name, files in cases:
            audio_seconds = sum(audiofile.duration(file) for file in files)
            for outputs in (["logits"], ["logits", "hidden_states"]):
                for method in methods:
                    long_case = name.endswith("min")
                    if long_case and method.startswith("recipe"):
                        # quadratic attention: tens of GB for a 20-min file
                        continue
                    if method == "onnxruntime" and (long_case or len(outputs) == 1):
                        continue
                    config = {
                        "method": method,
                        "root": root,
                        "outputs": outputs,
                        "threads": args.threads,
                        "files": files,
                        "runs": 1 if long_case else args.runs,
                        "audio_seconds": audio_seconds,
                    }
                    row = {
                        "input": name,
                        "outputs": "+".join(outputs),
                        "method": method,
                        **in_process(config, args.timeout),
                    }
                    results.append(row)
                    print(_format(row), flush=True)

    _ratios(results)
    print()
    print(
        f"{'input':<22}{'outputs':<22}{'method':<14}{'RTF':>8}{'x recipe':>10}"
        f"{'x tuned':>9}{'RSS MB':>9}{'load s':>8}"
    )
    for row in results:
        print(_format(row))
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(
                {"cpu_count": os.cpu_count(), "model": root, "results": results},
                fp,
                indent=2,
            )


def _ratios(results):
    baseline = {}
    for row in results:
        if "rtf" in row and row["method"] in ("recipe", "recipe-tuned"):
            baseline[(row["input"], row["outputs"], row["method"])] = row["rtf"]
    for row in results:
        if "rtf" not in row:
            continue
        for method, key in (("recipe", "x_recipe"), ("recipe-tuned", "x_tuned")):
            reference = baseline.get((row["input"], row["outputs"], method))
            row[key] = reference / row["rtf"] if reference else None


def _format(row):
    if "error" in row:
        return (
            f"{row['input']:<22}{row['outputs']:<22}{row['method']:<14}{row['error']}"
        )

    def ratio(value):
        return f"{value:.2f}" if value else "-"

    return (
        f"{row['input']:<22}{row['outputs']:<22}{row['method']:<14}"
        f"{row['rtf']:8.3f}{ratio(row.get('x_recipe')):>10}"
        f"{ratio(row.get('x_tuned')):>9}{row['peak_rss_mb']:9.0f}"
        f"{row['load_seconds']:8.2f}"
    )


if __name__ == "__main__":
    main()
