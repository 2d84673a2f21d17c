r"""Latency, keeping up, memory and the server of live emotion.

Four measurements, each in a fresh process
(``--parts`` selects them):

``latency``
    Pushes a speech-like signal of ``--seconds`` in chunks of ``--chunk-dur``
    (as a microphone delivers it) into a :class:`audemo.Stream`
    with ``--win-dur`` and ``--hop-dur`` (default 2 s and 0.5 s)
    and measures, for every window,
    the time from the push that brought its last sample
    to the row coming back, as median and 95th percentile,
    for each of ``--precisions``.
    A real source adds up to one chunk of buffering.
``keep-up``
    The smallest hop at which a stream with ``realtime=True``
    keeps up with audio that arrives in real time
    for ``--keep-up-seconds`` (default 10 minutes):
    no window skipped.
    Arrival is simulated: the time the stream would wait
    for the next chunk is added to its clock instead of slept,
    and a push takes every chunk that arrived while a window was computed
    (as ``audemo live`` and ``audemo serve`` do).
    Starts at the hop the latency suggests
    and moves along ``HOPS`` until one keeps up and the next smaller does not.
``memory``
    Peak memory of a stream over ``--memory-seconds`` (default one hour)
    of audio, read every 5 minutes of audio
    (windows of ``--win-dur`` without overlap: the stream's memory
    does not depend on the hop).
``server``
    ``audemo serve`` with the model, and 1, 4 and 8
    (``--server-streams``) WebSocket clients at once,
    each sending ``--server-seconds`` of audio in real time
    (0.1 s frames) with ``realtime=1``:
    rows, skipped windows, and the delay from the end of a window
    (as the client sent it) to its row arriving, per stream;
    and the server's memory after them (RSS, peak RSS, PSS):
    all streams share one model.

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``
(its outputs are **not** emotion predictions, its speed is the real model's)::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/live.py /data/full-model --output live.json

Without a model folder the small test model is used
(checks that the harness works).

"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from common import add_model_argument
from common import measure_in_process
from common import peak_rss_mb
from common import process_memory_mb
from common import speech_like


HOPS = (1.0, 0.75, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.075, 0.05, 0.025)
PARTS = ("latency", "keep-up", "memory", "server")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_argument(parser)
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--precisions", default="fp32,int8")
    parser.add_argument("--win-dur", type=float, default=2.0)
    parser.add_argument("--hop-dur", type=float, default=0.5)
    parser.add_argument("--chunk-dur", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--keep-up-seconds", type=float, default=600.0)
    parser.add_argument("--memory-seconds", type=float, default=3600.0)
    parser.add_argument("--server-seconds", type=float, default=60.0)
    parser.add_argument("--server-streams", default="1,4,8")
    parser.add_argument("--num-threads", type=int, default=None)
    parser.add_argument("--output", help="write the results as JSON")
    return parser.parse_args(argv)


def interface(config: dict):
    import audemo

    options = {"precision": config["precision"]}
    if config.get("num_threads"):
        options["num_threads"] = config["num_threads"]
    emotion = audemo.Emotion(config["model"], **options)
    # the first model run allocates: not part of any window's time
    emotion.process_signal([0.0] * int(config["win_dur"] * 16000), 16000)
    return emotion


# ----- the parts, each in its own process ---------------------------------------


def latency(config: dict) -> dict:
    import numpy as np

    import audemo

    stream = audemo.Stream(
        interface(config), win_dur=config["win_dur"], hop_dur=config["hop_dur"]
    )
    signal = speech_like(config["seconds"])
    chunk = int(config["chunk_dur"] * 16000)
    latencies = []
    cpu = time.process_time()
    for begin in range(0, signal.size, chunk):
        started = time.perf_counter()
        rows = stream.push(signal[begin : begin + chunk], 16000)
        if len(rows):
            latencies.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    latencies = np.array(latencies) * 1000
    return {
        "windows": int(stream.emitted),
        "latency_median_ms": round(float(np.median(latencies)), 1),
        "latency_p95_ms": round(float(np.percentile(latencies, 95)), 1),
        "cpu_seconds_per_audio_second": round(cpu / config["seconds"], 3),
    }


def keep_up(config: dict) -> dict:
    r"""One hop: does a real-time stream keep up without skipping?"""
    import numpy as np

    import audemo

    emotion = interface(config)
    chunk_dur = config["chunk_dur"]
    # arrival in real time, simulated: waiting is added to the clock
    waited = [0.0]
    started = time.perf_counter()

    def clock():
        return time.perf_counter() - started + waited[0]

    stream = audemo.Stream(
        emotion,
        win_dur=config["win_dur"],
        hop_dur=config["hop_dur"],
        realtime=True,
        clock=clock,
    )
    signal = speech_like(config["seconds"])
    chunk = int(chunk_dur * 16000)
    arrived = 0  # samples pushed
    delays = []
    while arrived < signal.size:
        now = clock()
        due = (arrived + chunk) / 16000  # when the next chunk has arrived
        if now < due:
            waited[0] += due - now
            now = due
        # everything that arrived by now, in one push
        until = min(signal.size, max(arrived + chunk, int(now / chunk_dur) * chunk))
        rows = stream.push(signal[arrived:until], 16000)
        arrived = until
        if len(rows):
            ends = rows.index.get_level_values("end").total_seconds().to_numpy()
            delays.extend(clock() - ends)
    return {
        "hop_dur": config["hop_dur"],
        "windows": int(stream.emitted),
        "skipped": int(stream.skipped),
        "keeps_up": stream.skipped == 0,
        "delay_p95_ms": round(float(np.percentile(delays, 95)) * 1000, 1),
        "busy_share": round((time.perf_counter() - started) / config["seconds"], 3),
    }


def memory(config: dict) -> dict:

    import audemo

    stream = audemo.Stream(
        interface(config), win_dur=config["win_dur"], hop_dur=config["win_dur"]
    )
    block = speech_like(300.0)  # 5 minutes, pushed again and again
    chunk = int(config["chunk_dur"] * 16000)
    samples = []
    for minute in range(0, int(config["seconds"] // 60), 5):
        for begin in range(0, block.size, chunk):
            stream.push(block[begin : begin + chunk], 16000)
        samples.append({"minute": minute + 5, "peak_rss_mb": round(peak_rss_mb())})
    return {
        "windows": int(stream.emitted),
        "buffer_samples": stream.buffer_size,
        "peak_rss_mb": samples,
    }


def in_process(part: str, config: dict) -> dict:
    return measure_in_process(__file__, part, config, name=part)


# ----- the server -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def client(url: str, signal, frame: int, np) -> dict:
    import websockets

    sent_at = {}  # end of the audio sent in seconds -> time it was sent
    rows = []
    async with websockets.connect(url, max_size=None) as ws:

        async def receive():
            async for message in ws:
                rows.append((json.loads(message), time.perf_counter()))

        receiver = asyncio.create_task(receive())
        start = time.perf_counter()
        for begin in range(0, signal.size, frame):
            due = start + (begin + frame) / 16000
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await ws.send(signal[begin : begin + frame].astype("<f4").tobytes())
            sent_at[(begin + frame) / 16000] = time.perf_counter()
        await ws.send("end")
        await receiver
    sent = np.array(sorted(sent_at))
    delays = []
    for row, received in rows:
        # the frame that brought the window's last sample
        last = sent[min(np.searchsorted(sent, row["end"] - 1e-9), sent.size - 1)]
        delays.append(received - sent_at[last])
    delays = np.array(delays) * 1000
    return {
        "rows": len(rows),
        "skipped": int(sum(row.get("skipped", 0) for row, _ in rows)),
        "delay_median_ms": round(float(np.median(delays)), 1),
        "delay_p95_ms": round(float(np.percentile(delays, 95)), 1),
    }


def server(args, model: str, precision: str) -> list:
    import numpy as np

    port = free_port()
    audemo = os.path.join(os.path.dirname(sys.executable), "audemo")
    command = [audemo, "serve", "--model", model, "--port", str(port)]
    command += ["--precision", precision]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read()) from None
                time.sleep(0.5)
        signal = speech_like(args.server_seconds)
        query = f"win_dur={args.win_dur}&hop_dur={args.hop_dur}&realtime=1"
        url = f"ws://127.0.0.1:{port}/stream?{query}"
        results = []
        for streams in [int(n) for n in args.server_streams.split(",")]:

            async def run(streams=streams):
                jobs = [client(url, signal, 1600, np) for _ in range(streams)]
                return await asyncio.gather(*jobs)

            per_stream = asyncio.run(run())
            windows = int((args.server_seconds - args.win_dur) / args.hop_dur) + 1
            results.append(
                {
                    "streams": streams,
                    "precision": precision,
                    "windows_per_stream": windows,
                    "keep_up": sum(r["skipped"] == 0 for r in per_stream),
                    "per_stream": per_stream,
                    # the server after the streams: one model for all of them
                    **process_memory_mb(process.pid),
                }
            )
            print(json.dumps(results[-1]), file=sys.stderr)
        return results
    finally:
        process.terminate()
        process.wait(timeout=30)


# ----- main -------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    import audemo

    parts = args.parts.split(",")
    precisions = args.precisions.split(",")
    summary = {
        "model": "test model" if args.model is None else args.model,
        "cores": os.cpu_count(),
        "win_dur": args.win_dur,
        "hop_dur": args.hop_dur,
        "chunk_dur": args.chunk_dur,
    }
    with tempfile.TemporaryDirectory() as folder:
        model = args.model or audemo.testing.create_model(os.path.join(folder, "m"))
        base = {
            "model": model,
            "win_dur": args.win_dur,
            "hop_dur": args.hop_dur,
            "chunk_dur": args.chunk_dur,
            "num_threads": args.num_threads,
        }
        for precision in precisions:
            config = dict(base, precision=precision)
            if "latency" in parts:
                result = in_process("latency", dict(config, seconds=args.seconds))
                summary[f"latency_{precision}"] = result
                print(json.dumps(result), file=sys.stderr)
            if "keep-up" in parts:
                latency = summary.get(f"latency_{precision}")
                summary[f"keep_up_{precision}"] = find_hop(args, config, latency)
            if "memory" in parts:
                result = in_process("memory", dict(config, seconds=args.memory_seconds))
                summary[f"memory_{precision}"] = result
                print(json.dumps(result), file=sys.stderr)
        if "server" in parts:
            summary["server"] = [
                row
                for precision in precisions
                for row in server(args, model, precision)
            ]
    print(json.dumps(summary, indent=1))
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(summary, fp, indent=1)
    return 0


def find_hop(args, config: dict, latency: dict | None) -> dict:
    r"""Smallest hop of ``HOPS`` that keeps up, and the next that does not."""
    # start where one window's compute time fits into a hop
    if latency is None:  # the latency part did not run
        latency = in_process("latency", dict(config, seconds=min(args.seconds, 30.0)))
    cost = latency["latency_p95_ms"] / 1000
    position = max([k for k, hop in enumerate(HOPS) if hop >= 1.2 * cost], default=0)
    tried = {}
    while 0 <= position < len(HOPS) and HOPS[position] not in tried:
        hop = HOPS[position]
        result = in_process(
            "keep-up", dict(config, hop_dur=hop, seconds=args.keep_up_seconds)
        )
        tried[hop] = result
        print(json.dumps(result), file=sys.stderr)
        position += 1 if result["keeps_up"] else -1
    keeping = [hop for hop, result in tried.items() if result["keeps_up"]]
    return {
        "seconds": args.keep_up_seconds,
        "smallest_hop": min(keeping) if keeping else None,
        "tried": list(tried.values()),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["_measure"]:
        part, config = sys.argv[2], json.loads(sys.argv[3])
        measure = {"latency": latency, "keep-up": keep_up, "memory": memory}[part]
        print(json.dumps(measure(config)))
        sys.exit(0)
    sys.exit(main())
