r"""Measure audemo on real-world input with the small test model.

Three measurements (each the median of several runs):

1. time and peak memory (RSS) of ``Emotion.process_file``
   on recordings of 1, 5 and 20 minutes, each in a fresh process
2. the cost of audemo's resumable result cache on 1,000 short files,
   compared to audinterface's plain cache and to no cache
3. the speed of ``VoiceActivity`` in seconds per audio hour

The test model is tiny, so these numbers show audemo's own overhead
(reading, chunking, caching), not the speed of the real model:
see ``benchmarks/performance.py`` for that.

Usage::

    python benchmarks/real_world.py --output results.json

"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import peak_rss_mb
from common import speech_like

import audformat
import audinterface
import audiofile

import audemo


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_long(model: str, root: str, runs: int) -> list[dict]:
    results = []
    for minutes in (1, 5, 20):
        path = os.path.join(root, f"long-{minutes}.wav")
        audiofile.write(path, speech_like(minutes * 60), 16000)
        samples = []
        for _ in range(runs):
            output = subprocess.run(
                [sys.executable, __file__, "_process-file", model, path],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            samples.append(json.loads(output))
        results.append(
            {
                "minutes": minutes,
                "seconds": statistics.median(s["seconds"] for s in samples),
                "peak_rss_mb": statistics.median(s["peak_rss_mb"] for s in samples),
            }
        )
    return results


def process_file(model: str, path: str):
    interface = audemo.Emotion(model)
    start = time.perf_counter()
    interface.process_file(path)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb()}))


def measure_cache(model: str, root: str, runs: int) -> dict:
    files = []
    for i in range(1000):
        path = os.path.join(root, "short", f"{i:04d}.wav")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        audiofile.write(path, speech_like(0.5, seed=i), 16000)
        files.append(path)
    index = audformat.filewise_index(files)
    emotion = audemo.Emotion(model)
    onnx_model = audemo.load_model(model, num_workers=emotion.num_threads)
    plain = audinterface.Feature(
        onnx_model.labels("logits"),
        process_func=onnx_model,
        process_func_args={"outputs": "logits"},
        sampling_rate=16000,
        resample=True,
    )
    counter = iter(range(10**6))

    def fresh(prefix):
        return os.path.join(root, "caches", f"{prefix}-{next(counter)}")

    return {
        "files": len(files),
        "no_cache_s": median_time(lambda: emotion.process_index(index), runs),
        "audemo_cache_cold_s": median_time(
            lambda: emotion.process_index(index, cache_root=fresh("audemo")), runs
        ),
        "audinterface_no_cache_s": median_time(
            lambda: plain.process_index(index), runs
        ),
        "audinterface_cache_cold_s": median_time(
            lambda: plain.process_index(index, cache_root=fresh("audinterface")), runs
        ),
        "audemo_cache_warm_s": _warm(emotion, index, fresh("warm"), runs),
    }


def _warm(interface, index, cache_root, runs):
    interface.process_index(index, cache_root=cache_root)
    return median_time(
        lambda: interface.process_index(index, cache_root=cache_root), runs
    )


def measure_vad(root: str, runs: int) -> dict:
    minutes = 10
    signal = speech_like(minutes * 60, seed=7)
    vad = audemo.VoiceActivity()
    vad.process_signal(signal[:16000], 16000)  # load the model
    seconds = median_time(lambda: vad.process_signal(signal, 16000), runs)
    return {
        "audio_minutes": minutes,
        "seconds": seconds,
        "seconds_per_audio_hour": seconds * 60 / minutes,
    }


def main():
    if sys.argv[1:2] == ["_process-file"]:
        # a measurement in its own process, started by measure_long
        process_file(*sys.argv[2:4])
        return
    parser = argparse.ArgumentParser(
        description=(
            "Measure audemo's handling of long recordings, its resumable cache "
            "and its voice activity detection on the small test model."
        )
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--output", help="write the results as JSON to this file")
    parser.add_argument(
        "--quick", action="store_true", help="one run each, for a smoke test"
    )
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as root:
        model = audemo.testing.create_model(os.path.join(root, "model"))
        results = {
            "runs": runs,
            "cpu_count": os.cpu_count(),
            "long_recordings": measure_long(model, root, runs),
            "cache_1000_files": measure_cache(model, root, runs),
            "vad": measure_vad(root, runs),
        }
    print("Long recordings (test model, process_file, fresh process each):")
    for row in results["long_recordings"]:
        print(
            f"  {row['minutes']:>3} min: {row['seconds']:7.2f} s, "
            f"peak RSS {row['peak_rss_mb']:7.0f} MB"
        )
    cache = results["cache_1000_files"]
    print("Cache on 1,000 files of 0.5 s (seconds):")
    for key, value in cache.items():
        if key != "files":
            print(f"  {key:<28}{value:8.2f}")
    vad = results["vad"]
    print(f"VAD: {vad['seconds_per_audio_hour']:.1f} s per audio hour")
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(results, fp, indent=2)


if __name__ == "__main__":
    main()
