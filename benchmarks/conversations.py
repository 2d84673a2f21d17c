r"""Cost of emotion per speaker turn against the same speech as one file.

Builds a conversation of two espeak-ng voices taking turns
(``--minutes`` long, ``--turns`` turns of 1.5 to 7.5 s,
pauses between them and an overlap every tenth turn),
with its turns known,
and measures, each in a fresh process with the same interface
(one worker with all cores as onnxruntime threads):

* ``turns``: :meth:`audemo.Emotion.process_turns` on the turns
  (one row per turn);
* ``one-file``: :meth:`audemo.Emotion.process_file`
  on the speech of all turns cut out and joined into one file
  (the same audio, chunked as long files are);
* ``turns-default``: ``process_turns`` with the interface's defaults
  (one worker per core), for reference.

The goal: ``turns`` costs at most 1.1 times ``one-file``,
and its peak memory stays that of a long file.
Times are medians of ``--runs`` runs,
peak memory is ``VmHWM`` of the process.

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``
(its outputs are **not** emotion predictions, its speed is the real model's)::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/conversations.py /data/full-model --output conversations.json

Without a model folder the small test model is used
(checks that the harness works).
Needs espeak-ng.

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
from common import measure_in_process


SAMPLING_RATE = 16000
SENTENCES = [
    "Did you get a chance to look at the numbers I sent you yesterday",
    "Yes, and honestly they look better than I expected",
    "The second quarter was slow, but the last month made up for it",
    "I am not sure the board will see it that way",
    "We should prepare a short summary before the meeting on Friday",
    "Can you ask the team for the latest figures",
    "That is a good point, let me write it down",
    "I think we need more time for the testing phase",
    "Well, we promised the release for the end of the month",
    "Then we have to cut some of the features",
    "Which ones would you drop first",
    "The reporting module, nobody asked for it anyway",
]
VOICES = ("en-us", "en-gb+f3")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_argument(parser)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    parser.add_argument("--output", help="write the results as JSON")
    return parser.parse_args(argv)


def synthesize(folder: str, np, audiofile, audresample) -> dict:
    r"""Each sentence in each voice, as 16 kHz signals."""
    clips = {}
    for voice in VOICES:
        for number, text in enumerate(SENTENCES):
            path = os.path.join(folder, f"{voice}-{number}.wav")
            subprocess.run(["espeak-ng", "-v", voice, "-w", path, text], check=True)
            signal, sampling_rate = audiofile.read(path, always_2d=True)
            signal = audresample.resample(signal, sampling_rate, SAMPLING_RATE)[0]
            clips[voice, number] = signal / max(1e-6, np.abs(signal).max()) * 0.5
    return clips


def conversation(folder: str, minutes: float, turns: int) -> tuple[str, str, list]:
    r"""The recording, the speech of its turns as one file, and the turns."""
    import numpy as np

    import audiofile
    import audresample

    clips = synthesize(folder, np, audiofile, audresample)
    rng = np.random.default_rng(0)
    # turn lengths that fill the recording, pauses of 0.3 s between turns
    lengths = rng.uniform(1.5, 7.5, turns)
    lengths *= (minutes * 60 - 0.3 * turns) / lengths.sum()
    recording = np.zeros(int((minutes * 60 + 10) * SAMPLING_RATE), np.float32)
    pieces, table = [], []
    position = 0.0
    for number, length in enumerate(lengths):
        voice = VOICES[number % 2]
        # every tenth turn starts 0.5 s before the previous one ends
        start = max(0.0, position - 0.5) if number % 10 == 9 else position
        speech = []
        while sum(len(part) for part in speech) < length * SAMPLING_RATE:
            speech.append(clips[voice, int(rng.integers(len(SENTENCES)))])
        speech = np.concatenate(speech)[: int(length * SAMPLING_RATE)]
        begin = int(round(start * SAMPLING_RATE))
        recording[begin : begin + len(speech)] += speech
        end = (begin + len(speech)) / SAMPLING_RATE
        table.append((voice, begin / SAMPLING_RATE, end))
        pieces.append((begin, begin + len(speech)))
        position = end + 0.3
    recording = recording[: int(position * SAMPLING_RATE)]
    path = os.path.join(folder, "conversation.wav")
    audiofile.write(path, recording, SAMPLING_RATE)
    # the same speech, turn after turn, as one file
    joined = np.concatenate([recording[begin:end] for begin, end in pieces])
    speech_path = os.path.join(folder, "speech.wav")
    audiofile.write(speech_path, joined, SAMPLING_RATE)
    return path, speech_path, table


# ----- one measurement, in its own process ----------------------------------


def measure(config: dict) -> dict:
    r"""Run one method once and report its time, rows and peak memory."""
    from common import peak_rss_mb
    import pandas as pd

    import audformat

    import audemo

    options = {"precision": config["precision"]}
    if config["method"] != "turns-default":
        options.update(num_workers=1, num_threads=os.cpu_count())
    interface = audemo.Emotion(config["model"], **options)
    # load the model before the clock starts: both methods need it once
    interface.process_signal([0.0] * SAMPLING_RATE, SAMPLING_RATE)
    turns = config["turns"]
    started = time.perf_counter()
    if config["method"] == "one-file":
        frame = interface.process_file(config["speech"])
    else:
        index = audformat.segmented_index(
            [config["recording"]] * len(turns),
            [start for _, start, _ in turns],
            [end for _, _, end in turns],
        )
        speakers = pd.Series([voice for voice, _, _ in turns], index=index)
        frame = interface.process_turns(speakers)
    seconds = time.perf_counter() - started
    return {
        "method": config["method"],
        "seconds": seconds,
        "rows": len(frame),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def in_process(config: dict) -> dict:
    r"""Measure in a fresh process."""
    return measure_in_process(__file__, config, name=config["method"])


def main(argv=None):
    args = parse_args(argv)
    import audemo

    results = []
    with tempfile.TemporaryDirectory() as folder:
        model = args.model or audemo.testing.create_model(os.path.join(folder, "m"))
        recording, speech, turns = conversation(folder, args.minutes, args.turns)
        speech_seconds = sum(end - start for _, start, end in turns)
        print(
            f"{len(turns)} turns, {speech_seconds / 60:.1f} min of speech "
            f"in {args.minutes:g} min",
            file=sys.stderr,
        )
        for method in ("one-file", "turns", "turns-default"):
            config = {
                "method": method,
                "model": model,
                "precision": args.precision,
                "recording": recording,
                "speech": speech,
                "turns": turns,
            }
            runs = [in_process(config) for _ in range(args.runs)]
            result = dict(runs[0])
            result["seconds"] = round(statistics.median(r["seconds"] for r in runs), 2)
            result["real_time_factor"] = round(result["seconds"] / speech_seconds, 4)
            results.append(result)
            print(json.dumps(result), file=sys.stderr)
    by_method = {result["method"]: result for result in results}
    summary = {
        "model": "test model" if args.model is None else args.model,
        "precision": args.precision,
        "cores": os.cpu_count(),
        "turns": len(turns),
        "speech_minutes": round(speech_seconds / 60, 2),
        "results": results,
        "turns_over_one_file": round(
            by_method["turns"]["seconds"] / by_method["one-file"]["seconds"], 3
        ),
        "goal": "turns_over_one_file <= 1.1",
    }
    print(json.dumps(summary, indent=1))
    if args.output:
        with open(args.output, "w") as fp:
            json.dump(summary, fp, indent=1)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["_measure"]:
        print(json.dumps(measure(json.loads(sys.argv[2]))))
        sys.exit(0)
    sys.exit(main())
