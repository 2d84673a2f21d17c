r"""Helpers shared by the benchmark scripts."""

import argparse
import json
import resource
import subprocess
import sys

import numpy as np


def add_model_argument(parser: argparse.ArgumentParser):
    r"""The optional model folder every benchmark takes."""
    parser.add_argument(
        "model",
        nargs="?",
        default=None,
        help="model folder (default: the small test model, to check the harness)",
    )


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    r"""Bursts of modulated noise with pauses, like speech, at 16 kHz."""
    rng = np.random.default_rng(seed)
    num_samples = int(seconds * 16000)
    signal = 0.1 * rng.standard_normal(num_samples).astype(np.float32)
    envelope = np.zeros(num_samples, np.float32)
    position = 0
    while position < num_samples:
        burst = int(rng.uniform(0.5, 3.0) * 16000)
        envelope[position : position + burst] = 1.0
        position += burst + int(rng.uniform(0.2, 1.0) * 16000)
    syllables = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * np.arange(num_samples) / 16000)
    return signal * envelope * syllables.astype(np.float32)


def peak_rss_mb() -> float:
    r"""Peak resident memory of this process in MB.

    Read from VmHWM: ru_maxrss survives exec on Linux
    and would report the parent's peak.

    """
    with open("/proc/self/status") as fp:
        for line in fp:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_memory_mb(pid: int | str = "self") -> dict:
    r"""Resident (VmRSS), peak (VmHWM) and proportional (Pss) memory in MB.

    Pss counts a page shared by N processes as 1/N in each:
    the sum over processes is what they hold together.

    """
    memory = {}
    with open(f"/proc/{pid}/status") as fp:
        for line in fp:
            if line.startswith(("VmRSS:", "VmHWM:")):
                memory[line[:5].lower()] = int(line.split()[1]) / 1024
    with open(f"/proc/{pid}/smaps_rollup") as fp:
        for line in fp:
            if line.startswith("Pss:"):
                memory["pss"] = int(line.split()[1]) / 1024
    return {
        "rss_mb": round(memory["vmrss"]),
        "peak_rss_mb": round(memory["vmhwm"]),
        "pss_mb": round(memory["pss"]),
    }


def measure_in_process(script: str, *arguments: str | dict, name: str) -> dict:
    r"""Run ``script _measure ARGUMENT...`` in a fresh process, return its result.

    Dictionaries are passed as JSON;
    the script prints its result as JSON on the last line of its output.

    """
    result = subprocess.run(
        [
            sys.executable,
            script,
            "_measure",
            *(json.dumps(a) if isinstance(a, dict) else a for a in arguments),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
