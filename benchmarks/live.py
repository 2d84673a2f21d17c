r"""Latency and CPU of live emotion with :class:`audemo.Stream`.

Pushes a synthesized, speech-like signal in chunks of ``--chunk-dur``
(as a microphone delivers it) into a ``Stream``
with ``--win-dur`` and ``--hop-dur`` (default 2 s and 0.5 s)
and measures, for every window,
the time from the push that brought its last sample
to the row coming back
(model time; add up to one chunk of buffering for a real source),
as median and 95th percentile,
and the CPU time per second of audio.

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``
(its outputs are **not** emotion predictions, its speed is the real model's)::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/live.py /data/full-model --seconds 120

Without a model folder the small test model is used
(checks that the harness works).

"""

import argparse
import json
import os
import sys
import tempfile
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", help="model folder (default: test model)")
    parser.add_argument("--win-dur", type=float, default=2.0)
    parser.add_argument("--hop-dur", type=float, default=0.5)
    parser.add_argument("--chunk-dur", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--sampling-rate", type=int, default=16000)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--output", help="write the results as JSON")
    return parser.parse_args(argv)


def speechlike(seconds, sampling_rate, np):
    rng = np.random.default_rng(0)
    n = int(seconds * sampling_rate)
    t = np.arange(n) / sampling_rate
    envelope = (np.sin(2 * np.pi * 0.4 * t) > -0.3) * (1 + np.sin(2 * np.pi * 4 * t))
    return (0.1 * envelope * rng.standard_normal(n)).astype("float32")


def main(argv=None):
    args = parse_args(argv)
    import numpy as np  # after --help: keep it fast

    import audemo

    with tempfile.TemporaryDirectory() as folder:
        model = args.model or audemo.testing.create_model(os.path.join(folder, "m"))
        interface = audemo.Emotion(
            model, precision=args.precision, num_threads=args.num_threads
        )
        stream = audemo.Stream(interface, win_dur=args.win_dur, hop_dur=args.hop_dur)
        signal = speechlike(args.seconds, args.sampling_rate, np)
        chunk = max(1, int(args.chunk_dur * args.sampling_rate))
        # warm up: the first model run allocates
        interface.process_signal(
            signal[: int(args.win_dur * args.sampling_rate)], args.sampling_rate
        )
        latencies = []
        cpu_start = time.process_time()
        wall_start = time.perf_counter()
        for begin in range(0, signal.size, chunk):
            started = time.perf_counter()
            rows = stream.push(signal[begin : begin + chunk], args.sampling_rate)
            if len(rows):
                latencies.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu_start
        wall = time.perf_counter() - wall_start
    latencies = np.array(latencies) * 1000
    result = {
        "model": "test model" if args.model is None else args.model,
        "win_dur": args.win_dur,
        "hop_dur": args.hop_dur,
        "chunk_dur": args.chunk_dur,
        "sampling_rate": args.sampling_rate,
        "windows": int(stream.emitted),
        "latency_median_ms": round(float(np.median(latencies)), 2),
        "latency_p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "cpu_seconds_per_audio_second": round(cpu / args.seconds, 4),
        "real_time_factor": round(wall / args.seconds, 4),
    }
    print(json.dumps(result, indent=1))
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(result, fp, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
