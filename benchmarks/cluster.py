r"""Throughput of audemo on a local Dask cluster against local processing.

Compares, on the same list of files,
local ``Emotion.process_index`` with 1 worker x 2 threads
and 2 workers x 1 thread,
and ``audemo.distributed.process_index`` on a
``LocalCluster`` with 1 worker x 2 threads and 2 workers x 1 thread,
and reports the real-time factor and the overhead per partition.
Needs the ``dask`` extra.

Usage::

    python benchmarks/cluster.py /data/full-model --files 40

"""

import argparse
import os
import statistics
import tempfile
import time

from common import add_model_argument
from common import speech_like

import audformat
import audiofile


def main():
    parser = argparse.ArgumentParser(
        description="Local processing against a local Dask cluster."
    )
    add_model_argument(parser)
    parser.add_argument("--files", type=int, default=40, help="files of 2-12 s")
    parser.add_argument("--partition-size", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    import dask.distributed
    import numpy as np

    import audemo
    import audemo.distributed

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or audemo.testing.create_model(os.path.join(tmp, "m"))
        rng = np.random.default_rng(1)
        files = []
        for i in range(args.files):
            path = os.path.join(tmp, f"{i:03d}.wav")
            audiofile.write(path, speech_like(rng.uniform(2, 12), seed=i), 16000)
            files.append(path)
        index = audformat.filewise_index(files)
        audio = sum(audiofile.duration(file) for file in files)

        def timed(function):
            function(index[:2])  # warm up: loads the model
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                function(index)
                times.append(time.perf_counter() - start)
            return statistics.median(times)

        rows = []
        for workers in (1, 2):
            interface = audemo.Emotion(
                model, outputs=["logits", "hidden_states"], num_workers=workers
            )
            seconds = timed(lambda part=index: interface.process_index(part))
            rows.append((f"local {workers} x {2 // workers} threads", seconds))
        for workers in (1, 2):
            with (
                dask.distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,
                dask.distributed.Client(cluster) as client,
            ):
                interface = audemo.Emotion(
                    model,
                    outputs=["logits", "hidden_states"],
                    num_threads=2 // workers,
                )
                seconds = timed(
                    lambda part=index: audemo.distributed.process_index(
                        interface,
                        part,
                        client=client,
                        partition_size=args.partition_size,
                        verbose=False,
                    )
                )
                rows.append((f"dask {workers} x {2 // workers} threads", seconds))
    partitions = -(-args.files // args.partition_size)
    local = rows[1][1]
    print(f"{args.files} files, {audio:.0f} s of audio, {partitions} partitions")
    for name, seconds in rows:
        overhead = (seconds - local) / partitions * 1000
        print(
            f"{name:<24} RTF {seconds / audio:.3f}  "
            f"({overhead:+.0f} ms per partition against local 2 x 1)"
        )


if __name__ == "__main__":
    main()
