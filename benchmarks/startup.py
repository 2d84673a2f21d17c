r"""Start-up of the ``audemo`` command and of ``import audemo``.

Every measurement runs in a fresh process, ``--runs`` times;
the medians and their ratios come from the same run:

``help``
    wall time of ``audemo --help`` and of each command's ``--help``
``import``
    wall time of ``python -c "import audemo"``,
    ``python -c "from audemo import Emotion"``
    and ``python -c "import audinterface"``
    (on which :class:`audemo.Emotion` is built),
    and their ratios
``predict``
    wall time of ``audemo predict`` on a short file (``--seconds``)
    with ``--precision fp32`` and ``int8``,
    against what it cannot avoid:
    creating an onnxruntime session of the same model file
    with the same number of threads, plus one model run on the file,
    timed inside a process that has already imported onnxruntime.
    The first call (a fresh model cache: fingerprint, int8 model)
    and the second call (same cache) are measured apart,
    each split into its parts:
    all imports of the process, wherever they happen
    (``import``, summed from ``python -X importtime``;
    the command imports most of its packages when it runs),
    and the command without its imports (``command``).

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/startup.py /data/full-model --output startup.json

Without a model folder the small test model is used,
which checks that the harness works (CI does that).

"""

import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from common import add_model_argument
from common import speech_like

import audiofile

from audemo.core.cli import COMMANDS


def machine() -> str:
    r"""CPU model, cores and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fp:
            for line in fp:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:  # not Linux
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def wall(argv: list[str], env: dict | None = None) -> float:
    r"""Wall time of a command in seconds; fails loudly if the command fails."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def median_walls(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    r"""Median wall time of each command, the commands interleaved in each run."""
    times = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(wall(argv))
    return {name: statistics.median(values) for name, values in times.items()}


# ----- predict split into its parts, in a fresh process ----------------------

PREDICT = r"""
import json, sys, time
from audemo.core.cli import main
print("command starts", file=sys.stderr, flush=True)
start = time.perf_counter()
code = main(sys.argv[1:])
done = time.perf_counter()
assert code == 0, code
print(json.dumps({"main": done - start}))
"""

COMMAND_STARTS = "command starts"


def import_seconds(importtime: str) -> tuple[float, float]:
    r"""Seconds of all imports, and of those after the command started.

    Args:
        importtime: stderr of ``python -X importtime``

    Returns:
        seconds of the top-level imports of the process
        and of those that the command made

    """
    total = during = 0.0
    started = False
    for line in importtime.splitlines():
        started = started or line == COMMAND_STARTS
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip() == "cumulative":  # the header
            continue
        if len(name) - len(name.lstrip()) == 1:  # top level: not nested
            seconds = int(cumulative) / 1e6
            total += seconds
            during += seconds if started else 0.0
    return total, during


SESSION = r"""
import json, os, sys, time
import numpy as np
import onnxruntime
import audiofile
path, file = sys.argv[1:3]
signal, _ = audiofile.read(file, always_2d=True)
start = time.perf_counter()
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = os.cpu_count()
session = onnxruntime.InferenceSession(
    path, options, providers=["CPUExecutionProvider"]
)
created = time.perf_counter()
session.run(None, {"signal": signal.astype(np.float32)})
done = time.perf_counter()
print(json.dumps({"session": created - start, "run": done - created}))
"""


def predict_parts(argv: list[str]) -> dict:
    r"""Wall time and parts of ``audemo predict`` in a fresh process."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PREDICT, *argv],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    main = json.loads(result.stdout.strip().splitlines()[-1])["main"]
    imports, imports_of_command = import_seconds(result.stderr)
    return {"wall": wall, "import": imports, "command": main - imports_of_command}


def session_parts(path: str, file: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SESSION, path, file],
        check=True,
        capture_output=True,
        text=True,
    )
    parts = json.loads(result.stdout.strip().splitlines()[-1])
    return {**parts, "total": parts["session"] + parts["run"]}


def medians(rows: list[dict]) -> dict:
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def measure_predict(root: str, file: str, precision: str, runs: int, tmp: str):
    firsts, seconds, sessions = [], [], []
    for run in range(runs):
        cache = os.path.join(tmp, f"cache-{precision}-{run}")
        argv = [
            "predict",
            file,
            "--model",
            root,
            "--precision",
            precision,
            "--model-cache-root",
            cache,
            "-o",
            os.path.join(tmp, "results.csv"),
            "--overwrite",
        ]
        firsts.append(predict_parts(argv))  # a fresh cache
        seconds.append(predict_parts(argv))  # the same cache
        if precision == "fp32":
            model = os.path.join(root, "model.onnx")
        else:  # the int8 model the first call wrote into the cache
            (model,) = glob.glob(os.path.join(cache, "int8", "*", "model.onnx"))
        sessions.append(session_parts(model, file))
    first, second, session = medians(firsts), medians(seconds), medians(sessions)
    return {
        "precision": precision,
        "first": first,
        "second": second,
        "session_and_run": session,
        "first_vs_session_and_run": first["wall"] / session["total"],
        "second_vs_session_and_run": second["wall"] / session["total"],
        "second_vs_first": {key: second[key] / first[key] for key in first},
    }


def main():
    parser = argparse.ArgumentParser(
        description=(
            "Measure the start-up of the audemo command and of import audemo: "
            "help, imports, and predict on a short file against "
            "session creation plus one model run."
        ),
        epilog="See the module docstring for details.",
    )
    add_model_argument(parser)
    parser.add_argument("--runs", type=int, default=5, help="repetitions (median)")
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="duration of the short file"
    )
    parser.add_argument(
        "--precisions", default="fp32,int8", help="comma-separated precisions"
    )
    parser.add_argument("--output", help="write the results as JSON to this file")
    args = parser.parse_args()

    audemo = os.path.join(os.path.dirname(sys.executable), "audemo")
    python = sys.executable
    results = {"machine": machine(), "runs": args.runs}
    print(f"machine: {results['machine']}; medians of {args.runs} runs")

    helps = {"audemo": [audemo, "--help"]}
    helps.update({command: [audemo, command, "--help"] for command in COMMANDS})
    help_times = median_walls(helps, args.runs)
    results["help_seconds"] = help_times
    results["help_slowest_seconds"] = max(help_times.values())
    print(
        "help (s): "
        + ", ".join(f"{k} {v:.2f}" for k, v in help_times.items())
        + f"; slowest {results['help_slowest_seconds']:.2f}"
    )

    imports = median_walls(
        {
            "audinterface": [python, "-c", "import audinterface"],
            "audemo": [python, "-c", "import audemo"],
            "Emotion": [python, "-c", "from audemo import Emotion"],
        },
        args.runs,
    )
    results["import_seconds"] = imports
    results["import_audemo_vs_audinterface"] = (
        imports["audemo"] / imports["audinterface"]
    )
    results["import_emotion_vs_audinterface"] = (
        imports["Emotion"] / imports["audinterface"]
    )
    print(
        f"import (s): audinterface {imports['audinterface']:.2f}, "
        f"audemo {imports['audemo']:.2f} "
        f"(x {results['import_audemo_vs_audinterface']:.2f}), "
        f"from audemo import Emotion {imports['Emotion']:.2f} "
        f"(x {results['import_emotion_vs_audinterface']:.2f})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = args.model
        if root is None:
            import audemo as package

            root = package.testing.create_model(os.path.join(tmp, "model"))
        root = os.path.abspath(root)
        file = os.path.join(tmp, "short.wav")
        audiofile.write(file, speech_like(args.seconds), 16000)
        results["model"] = root
        results["predict"] = []
        for precision in args.precisions.split(","):
            row = measure_predict(root, file, precision, args.runs, tmp)
            results["predict"].append(row)
            first, second = row["first"], row["second"]
            session = row["session_and_run"]
            print(
                f"predict {args.seconds:g} s {precision}: "
                f"first {first['wall']:.2f} s (import {first['import']:.2f}, "
                f"command {first['command']:.2f}), "
                f"second {second['wall']:.2f} s (import {second['import']:.2f}, "
                f"command {second['command']:.2f}); "
                f"session {session['session']:.2f} + run {session['run']:.2f} s; "
                f"first / (session + run) {row['first_vs_session_and_run']:.2f}, "
                f"second / (session + run) {row['second_vs_session_and_run']:.2f}, "
                "second / first: "
                + ", ".join(f"{k} {v:.2f}" for k, v in row["second_vs_first"].items())
            )
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(results, fp, indent=2)


if __name__ == "__main__":
    main()
