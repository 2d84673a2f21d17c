r"""Memory of audemo's workers: one worker, and N workers together.

``one``
    A fresh process imports audemo (``libraries``: the RSS it adds),
    creates an :class:`audemo.Emotion` and runs it on 0.5 s
    (``model``: the RSS both add),
    then on the longest chunk audemo runs at once
    (``audemo.core.define.CHUNK_DUR``, 20 s: ``activations``,
    the peak RSS it adds).
    Printed against the size of the model file,
    for each of ``--precisions``
    (the int8 model is made in a temporary cache first).
``workers``
    ``--workers`` such processes at once, as ``num_workers`` worker
    processes are (each loads its own model),
    and one alone; each holds its model until all have run,
    then the proportional memory (PSS, ``/proc/PID/smaps_rollup``)
    of each is read: a page shared by N processes counts 1/N in each,
    so the sum is what they hold together.
    ``--sharing`` adds the same with ``share_weights=True``
    (the optimized graph and its prepacked weights
    written once into the model cache by onnxruntime,
    the weights file mapped and shared by the processes)
    next to ``share_weights=False`` (every process its own copy),
    made in the cache before the workers start.
    ``--repeats`` rounds run the methods in turn
    (one worker, then N, for each method);
    every number is the median over the rounds,
    and the time of the chunk is the throughput:
    alone (``run_seconds``) and with N at once
    (all start the chunk together when all have loaded:
    ``throughput_n``, audio seconds per second until the last is done).

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/memory.py /data/full-model --output memory.json

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
from common import process_memory_mb
from common import speech_like


# ----- one worker, in its own process ----------------------------------------


def worker(config: dict):
    r"""Load the model, run it on the longest chunk, report, wait for stdin."""
    before = process_memory_mb()
    import audonnx  # noqa: F401 - imported where a model is opened: a library too

    import audemo
    from audemo.core.define import CHUNK_DUR

    imported = process_memory_mb()
    interface = audemo.Emotion(
        config["root"],
        precision=config["precision"],
        model_cache_root=config["cache"],
        num_threads=1,
        share_weights=config["share_weights"],
    )

    def run(seconds):
        interface.process_signal(speech_like(seconds), 16000)

    run(0.5)
    loaded = process_memory_mb()
    print("ready", flush=True)
    sys.stdin.readline()  # all workers run the chunk at once
    start = time.perf_counter()
    run(CHUNK_DUR)
    seconds = time.perf_counter() - start
    peak = process_memory_mb()
    print(
        json.dumps(
            {
                "libraries_mb": imported["rss_mb"] - before["rss_mb"],
                "model_mb": loaded["rss_mb"] - imported["rss_mb"],
                "activations_mb": peak["peak_rss_mb"] - loaded["rss_mb"],
                "peak_rss_mb": peak["peak_rss_mb"],
                "chunk_seconds": CHUNK_DUR,
                "run_seconds": round(seconds, 2),
            }
        ),
        flush=True,
    )
    sys.stdin.readline()  # hold the model until the harness has read PSS


def workers(config: dict, number: int) -> dict:
    r"""Start ``number`` workers at once, sum their PSS when all have run.

    When all have loaded the model,
    all run the chunk at once:
    the time until the last is done is the throughput.

    """
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "_worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(number)
    ]
    try:
        for process in processes:
            process.stdout.readline()  # ready
        start = time.perf_counter()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        rows = [json.loads(process.stdout.readline()) for process in processes]
        wall = time.perf_counter() - start
        memory = [process_memory_mb(process.pid) for process in processes]
    finally:
        for process in processes:
            process.communicate("\n", timeout=120)
    return {
        "workers": number,
        "pss_mb": sum(m["pss_mb"] for m in memory),
        "rss_mb": sum(m["rss_mb"] for m in memory),
        "run_seconds": statistics.median(row["run_seconds"] for row in rows),
        "wall_seconds": wall,
        "one": rows[0],
    }


def main():
    if sys.argv[1:2] == ["_worker"]:
        worker(json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(
        description=(
            "Measure the memory of one audemo worker (libraries, model, "
            "activations of the longest chunk) and of N workers (PSS)."
        ),
        epilog="See the module docstring for details.",
    )
    add_model_argument(parser)
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument(
        "--precisions", default="fp32,int8", help="comma-separated precisions"
    )
    parser.add_argument(
        "--sharing",
        action="store_true",
        help="also measure share_weights=True (weights mapped from one file)",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of all methods, in turn"
    )
    parser.add_argument("--output", help="write the results as JSON to this file")
    args = parser.parse_args()

    import audemo
    from audemo.core.model.fingerprint import onnx_sha256
    from audemo.core.model.precision import precision_root
    from audemo.core.model.weights import shared_weights

    methods = {"audemo": False, "audemo, shared weights": True}
    if not args.sharing:
        methods = {"audemo": False}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.model or audemo.testing.create_model(os.path.join(tmp, "model"))
        root = os.path.abspath(root)
        cache = os.path.join(tmp, "cache")
        for precision in args.precisions.split(","):
            model = os.path.join(
                precision_root(root, precision, cache_root=cache), "model.onnx"
            )
            if args.sharing:  # made once, as by the first use
                digest = onnx_sha256(model, cache_root=cache)
                shared_weights(model, digest, cache_root=cache)
            file_mb = os.path.getsize(model) / 2**20
            rounds = {method: [] for method in methods}
            for _ in range(args.repeats):
                for method, share in methods.items():
                    config = {
                        "root": root,
                        "precision": precision,
                        "cache": cache,
                        "share_weights": share,
                    }
                    one = workers(config, 1)
                    many = workers(config, args.workers)
                    rounds[method].append(_row(method, precision, file_mb, one, many))
            rows = {method: _median(rows) for method, rows in rounds.items()}
            for row in rows.values():
                results.append(row)
                print(_format(row), flush=True)
            if args.sharing:
                base, shared = rows.values()
                ratios = {
                    "precision": precision,
                    "throughput_shared_vs_not_1": base["run_seconds"]
                    / shared["run_seconds"],
                    f"throughput_shared_vs_not_{args.workers}": shared["throughput_n"]
                    / base["throughput_n"],
                }
                results.append(ratios)
                print(
                    f"{precision}: throughput with shared weights vs without "
                    f"(medians of {args.repeats}): "
                    f"1 worker x {ratios['throughput_shared_vs_not_1']:.3f}, "
                    f"{args.workers} workers x "
                    f"{ratios[f'throughput_shared_vs_not_{args.workers}']:.3f}",
                    flush=True,
                )
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(
                {
                    "cpu_count": os.cpu_count(),
                    "cpu": _cpu(),
                    "repeats": args.repeats,
                    "results": results,
                },
                fp,
                indent=2,
            )


def _median(rows: list[dict]) -> dict:
    r"""Median of every number over the rounds of one method."""
    median = dict(rows[0])
    for key, value in median.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            median[key] = statistics.median(row[key] for row in rows)
    median["rounds"] = len(rows)
    return median


def _cpu() -> str:
    r"""Model name and vector extensions of the CPU."""
    try:
        with open("/proc/cpuinfo") as fp:
            text = fp.read()
    except OSError:
        return "unknown"
    name = next(
        (
            line.split(":", 1)[1].strip()
            for line in text.splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    return f"{name}, {'AVX-512' if 'avx512f' in text else 'no AVX-512'}"


def _row(method, precision, file_mb, one, many) -> dict:
    single = one["one"]
    return {
        "method": method,
        "precision": precision,
        "file_mb": round(file_mb),
        **single,
        "peak_vs_file_plus_activations": single["peak_rss_mb"]
        / (file_mb + single["activations_mb"]),
        "pss_1_mb": one["pss_mb"],
        f"pss_{many['workers']}_mb": many["pss_mb"],
        "pss_n_vs_1": many["pss_mb"] / one["pss_mb"],
        "run_seconds_n": many["run_seconds"],
        # audio seconds per second, all N running the chunk at once
        "throughput_n": many["workers"]
        * single["chunk_seconds"]
        / many["wall_seconds"],
    }


def _format(row) -> str:
    n = next(key for key in row if key.startswith("pss_") and key != "pss_1_mb")
    return (
        f"{row['method']:<24}{row['precision']:<6}file {row['file_mb']} MB; "
        f"one worker: libraries {row['libraries_mb']}, model {row['model_mb']}, "
        f"activations of {row['chunk_seconds']:g} s {row['activations_mb']}, "
        f"peak {row['peak_rss_mb']} MB "
        f"(x {row['peak_vs_file_plus_activations']:.2f} of file + activations), "
        f"run {row['run_seconds']:.2f} s; "
        f"PSS 1 worker {row['pss_1_mb']} MB, {n} {row[n]} MB "
        f"(x {row['pss_n_vs_1']:.2f}), run {row['run_seconds_n']:.2f} s each, "
        f"{row['throughput_n']:.2f} audio s/s together"
    )


if __name__ == "__main__":
    main()
