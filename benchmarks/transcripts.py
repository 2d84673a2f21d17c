r"""Cost of emotion per sentence and per word of a transcript.

Builds the conversation of ``benchmarks/conversations.py``
(``--minutes`` long, ``--turns`` turns of two espeak-ng voices),
takes each turn as a sentence of a transcript
and splits it into words of about ``--word-dur`` seconds
(0.36 s: ~5000 words in 30 minutes;
the times of the words are even shares of the turn,
enough for timing, where only the number of windows counts),
and measures, each in a fresh process with the same interface
(one worker with all cores as onnxruntime threads):

* ``one-file``: :meth:`audemo.Emotion.process_file`
  on the speech of all turns joined into one file;
* ``sentences``: :func:`audemo.process_transcript`
  on the sentences (one row per sentence);
* ``windows``: 2-s windows at a 0.5-s hop over the joined speech
  (``Emotion(win_dur=2, hop_dur=0.5).process_file``);
* ``words``: :func:`audemo.process_transcript` with ``level="word"``
  (a 2-s window centred on each word).

The goals: ``sentences`` costs at most 1.1 times ``one-file``,
``words`` at most 1.5 times ``windows``.
Times are medians of ``--runs`` runs,
peak memory is ``VmHWM`` of the process.

Measure on the full-size model with random weights
made by ``benchmarks/export_full_model.py``
(its outputs are **not** emotion predictions, its speed is the real model's)::

    python benchmarks/export_full_model.py /data/full-model
    python benchmarks/transcripts.py /data/full-model --output transcripts.json

Without a model folder the small test model is used
(checks that the harness works;
its per-call overhead weighs far more than with the real model).
Needs espeak-ng.

"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from common import add_model_argument
from common import measure_in_process
from conversations import conversation


METHODS = ("one-file", "sentences", "windows", "words")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_argument(parser)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--word-dur", type=float, default=0.36)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    parser.add_argument("--output", help="write the results as JSON")
    return parser.parse_args(argv)


def transcripts(recording: str, turns: list, word_dur: float):
    r"""Sentences and words of the turns, as transcript frames."""
    import numpy as np
    import pandas as pd

    import audformat

    sentences = pd.DataFrame(
        {
            "speaker": [voice for voice, _, _ in turns],
            "text": [f"sentence {number}" for number in range(len(turns))],
        },
        index=audformat.segmented_index(
            [recording] * len(turns),
            [start for _, start, _ in turns],
            [end for _, _, end in turns],
        ),
    )
    rows = []
    for voice, start, end in turns:
        count = max(1, round((end - start) / word_dur))
        edges = np.linspace(start, end, count + 1)
        rows += [(voice, a, b) for a, b in zip(edges[:-1], edges[1:])]
    words = pd.DataFrame(
        {
            "speaker": [voice for voice, _, _ in rows],
            "text": [f"word{number}" for number in range(len(rows))],
        },
        index=audformat.segmented_index(
            [recording] * len(rows),
            [round(a, 6) for _, a, _ in rows],
            [round(b, 6) for _, _, b in rows],
        ),
    )
    return sentences, words


# ----- one measurement, in its own process ----------------------------------


def measure(config: dict) -> dict:
    r"""Run one method once and report its time, rows and peak memory."""
    from common import peak_rss_mb

    import audemo

    method = config["method"]
    options = {
        "precision": config["precision"],
        "num_workers": 1,
        "num_threads": os.cpu_count(),
    }
    if method == "windows":
        options.update(win_dur=2.0, hop_dur=0.5)
    interface = audemo.Emotion(config["model"], **options)
    # load the model before the clock starts: every method needs it once
    interface.process_signal([0.0] * 16000, 16000)
    if method in ("sentences", "words"):
        sentences, words = transcripts(
            config["recording"], config["turns"], config["word_dur"]
        )
    started = time.perf_counter()
    if method in ("one-file", "windows"):
        frame = interface.process_file(config["speech"])
    elif method == "sentences":
        frame = audemo.process_transcript(interface, sentences)
    else:
        frame = audemo.process_transcript(interface, words, level="word")
    seconds = time.perf_counter() - started
    return {
        "method": method,
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
        _, words = transcripts(recording, turns, args.word_dur)
        print(
            f"{len(turns)} sentences, {len(words)} words, "
            f"{speech_seconds / 60:.1f} min of speech in {args.minutes:g} min",
            file=sys.stderr,
        )
        for method in METHODS:
            config = {
                "method": method,
                "model": model,
                "precision": args.precision,
                "recording": recording,
                "speech": speech,
                "turns": turns,
                "word_dur": args.word_dur,
            }
            runs = [in_process(config) for _ in range(args.runs)]
            result = dict(runs[0])
            result["seconds"] = round(statistics.median(r["seconds"] for r in runs), 2)
            result["real_time_factor"] = round(result["seconds"] / speech_seconds, 4)
            results.append(result)
            print(json.dumps(result), file=sys.stderr)
    seconds = {result["method"]: result["seconds"] for result in results}
    summary = {
        "model": "test model" if args.model is None else args.model,
        "precision": args.precision,
        "cores": os.cpu_count(),
        "sentences": len(turns),
        "words": len(words),
        "speech_minutes": round(speech_seconds / 60, 2),
        "results": results,
        "sentences_over_one_file": round(seconds["sentences"] / seconds["one-file"], 3),
        "words_over_windows": round(seconds["words"] / seconds["windows"], 3),
        "goal": "sentences_over_one_file <= 1.1, words_over_windows <= 1.5",
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
