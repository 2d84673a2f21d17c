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
    ``--sharing`` adds the same for bare onnxruntime sessions
    whose initializers come from one memory-mapped file
    (``SessionOptions.add_initializer`` of arrays on a shared mapping),
    with prepacking on (the default) and off,
    and the time of one run of the chunk each.

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

from common import process_memory_mb
from common import speech_like


# ----- one worker, in its own process ----------------------------------------


def worker(config: dict):
    r"""Load the model, run it on the longest chunk, report, wait for stdin."""
    before = process_memory_mb()
    if config["method"] == "audemo":
        import audonnx  # noqa: F401 - imported where a model is opened: a library too

        from audemo import Emotion
        from audemo.core.define import CHUNK_DUR

        imported = process_memory_mb()
        interface = Emotion(
            config["root"],
            precision=config["precision"],
            model_cache_root=config["cache"],
            num_threads=1,
        )

        def run(seconds):
            interface.process_signal(speech_like(seconds), 16000)

    else:  # bare onnxruntime, initializers from a shared mapping
        import numpy as np
        import onnxruntime

        imported = process_memory_mb()
        CHUNK_DUR = 20.0  # noqa: N806 - the name of audemo.core.define
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        if config["method"] == "shared-noprepack":
            options.add_session_config_entry("session.disable_prepacking", "1")
        arrays = []
        with open(config["index"]) as fp:
            index = json.load(fp)
        mapped = np.memmap(config["weights"], dtype=np.uint8, mode="r")
        for name, (offset, dtype, shape) in index.items():
            count = int(np.prod(shape)) * np.dtype(dtype).itemsize
            array = mapped[offset : offset + count].view(dtype).reshape(shape)
            value = onnxruntime.OrtValue.ortvalue_from_numpy(array)
            arrays.append(value)  # must outlive the session
            options.add_initializer(name, value)
        session = onnxruntime.InferenceSession(
            config["graph"], options, providers=["CPUExecutionProvider"]
        )

        def run(seconds):
            session.run(None, {"signal": speech_like(seconds)[np.newaxis]})

    run(0.5)
    loaded = process_memory_mb()
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
    r"""Start ``number`` workers at once, sum their PSS when all have run."""
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
        rows = [json.loads(process.stdout.readline()) for process in processes]
        memory = [process_memory_mb(process.pid) for process in processes]
    finally:
        for process in processes:
            process.communicate("\n", timeout=120)
    return {
        "workers": number,
        "pss_mb": sum(m["pss_mb"] for m in memory),
        "rss_mb": sum(m["rss_mb"] for m in memory),
        "run_seconds": statistics.median(row["run_seconds"] for row in rows),
        "one": rows[0],
    }


# ----- initializers in one file, for the sharing experiment ------------------


def split_initializers(model: str, folder: str) -> dict:
    r"""Graph without its large initializers, and those in one file."""
    import onnx
    import onnx.numpy_helper

    proto = onnx.load(model, load_external_data=False)
    index = {}
    offset = 0
    with open(os.path.join(folder, "weights.bin"), "wb") as fp:
        for tensor in proto.graph.initializer:
            if len(tensor.raw_data) < 1024:
                continue
            array = onnx.numpy_helper.to_array(tensor)
            offset += -offset % 64  # aligned
            fp.seek(offset)
            fp.write(array.tobytes())
            index[tensor.name] = (offset, array.dtype.str, list(array.shape))
            offset += array.nbytes
            # the graph holds no weights of its own: a reference
            # that add_initializer overrides before onnxruntime reads it
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            for key, value in (
                ("location", "weights.bin"),
                ("offset", str(index[tensor.name][0])),
                ("length", str(array.nbytes)),
            ):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
    onnx.save(proto, os.path.join(folder, "graph.onnx"))
    with open(os.path.join(folder, "index.json"), "w") as fp:
        json.dump(index, fp)
    return {
        "graph": os.path.join(folder, "graph.onnx"),
        "weights": os.path.join(folder, "weights.bin"),
        "index": os.path.join(folder, "index.json"),
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
    parser.add_argument(
        "model",
        nargs="?",
        default=None,
        help="model folder (default: the small test model, to check the harness)",
    )
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument(
        "--precisions", default="fp32,int8", help="comma-separated precisions"
    )
    parser.add_argument(
        "--sharing",
        action="store_true",
        help="also measure initializers shared through a memory-mapped file",
    )
    parser.add_argument("--output", help="write the results as JSON to this file")
    args = parser.parse_args()

    import audemo
    from audemo.core.model.precision import precision_root

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = args.model or audemo.testing.create_model(os.path.join(tmp, "model"))
        root = os.path.abspath(root)
        cache = os.path.join(tmp, "cache")
        for precision in args.precisions.split(","):
            model = precision_root(root, precision, cache_root=cache)
            config = {
                "method": "audemo",
                "root": root,
                "precision": precision,
                "cache": cache,
            }
            file_mb = os.path.getsize(os.path.join(model, "model.onnx")) / 2**20
            one = workers(config, 1)
            many = workers(config, args.workers)
            row = _row("audemo", precision, file_mb, one, many)
            results.append(row)
            print(_format(row), flush=True)
            if args.sharing:
                files = split_initializers(os.path.join(model, "model.onnx"), tmp)
                for method in ("shared", "shared-noprepack"):
                    config = {"method": method, **files}
                    one = workers(config, 1)
                    many = workers(config, args.workers)
                    row = _row(method, precision, file_mb, one, many)
                    results.append(row)
                    print(_format(row), flush=True)
    if args.output:
        with open(args.output, "w") as fp:
            json.dump({"cpu_count": os.cpu_count(), "results": results}, fp, indent=2)


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
    }


def _format(row) -> str:
    n = next(key for key in row if key.startswith("pss_") and key != "pss_1_mb")
    return (
        f"{row['method']:<17}{row['precision']:<6}file {row['file_mb']} MB; "
        f"one worker: libraries {row['libraries_mb']}, model {row['model_mb']}, "
        f"activations of {row['chunk_seconds']:g} s {row['activations_mb']}, "
        f"peak {row['peak_rss_mb']} MB "
        f"(x {row['peak_vs_file_plus_activations']:.2f} of file + activations), "
        f"run {row['run_seconds']:.2f} s; "
        f"PSS 1 worker {row['pss_1_mb']} MB, {n} {row[n]} MB "
        f"(x {row['pss_n_vs_1']:.2f}), run {row['run_seconds_n']:.2f} s each"
    )


if __name__ == "__main__":
    main()
