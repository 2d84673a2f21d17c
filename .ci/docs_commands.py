#!/usr/bin/env python3
r"""Run the shell commands of README.md and docs/install.rst as printed.

Every line of their ``bash`` blocks runs,
in the order of the documents,
in a fresh virtual environment
that holds only what the documents install
(README's ``pip install .`` first),
so an example that needs an extra the documents do not install fails here.
README's second block, the test command, is not run again:
``.ci/run`` runs it first.
Commands that install audemo or name files of the repository
(``pip``, ``python -m sphinx``, ``docs/...``)
run in the repository root;
the others in one example folder
that holds the files the examples name
(``speech.wav``, ``corpus/``, ``my-db/``, ``calls.rttm``, ...),
made here from ``audemo.testing.speech_file()``.

The model is never downloaded (``AUDEMO_OFFLINE=1``):
the caches the commands use
(``$AUDEMO_CACHE_ROOT`` and the example's ``audemo-cache/``)
hold the test model of :func:`audemo.testing.create_model`
under the folder of the registered model,
as a cache copied from another machine does,
so ``audemo predict``, ``download`` and ``info``
take their real code path:
the folder is checked, recorded and run.
The offline recipe's ``--model w2v2-L-robust-12``
runs with an empty cache (:data:`EMPTY_CACHE`),
so only the extracted folder can serve it.
The model archive of the offline recipe
is a zip of the test model.

Right after README's first command (``pip install .``, not editable)
the examples of :file:`docs/usage.rst` run with Python's doctest
from an empty folder outside the repository:
the files they use come with the installed package.

Commands that cannot run here are in :data:`SKIP`, with the reason;
a skip entry that matches no command fails the check,
as does any command that fails
or prints what :data:`OUTDATED` lists
(pip's warning about an extra the package lacks,
audemo's warnings about options).

Usage: python .ci/docs_commands.py [--keep DIR]

"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

import audeer
import audformat
import audiofile
import audresample

import audemo
from audemo.core.define import DEFAULT_MODEL
from audemo.core.model.registry import cache_folder


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTS = ["README.md", os.path.join("docs", "install.rst")]
ARCHIVE = "w2v2-L-robust-12.6bc4a7fd-1.1.0.zip"

# README's second block is the test command, which .ci/run runs first
TEST_COMMAND = "the test command (README's second block): .ci/run runs it first"
SKIP = {
    "python -m pytest": TEST_COMMAND,
    'pip install "audemo @ git+https://github.com/audemo/audemo.git"': (
        "installs from GitHub (network); the check installs from this clone, "
        "as README does"
    ),
    "git clone https://github.com/audemo/audemo.git": (
        "network; the check runs in this clone"
    ),
    "cd audemo": "the commands that follow run in the root of this clone",
    "sudo apt-get update && sudo apt-get install -y --no-install-recommends "
    "espeak-ng sox libsox-fmt-all alsa-utils ffmpeg mediainfo libportaudio2 "
    "chromium": (
        "system packages (root); the same list as README's test command, "
        "which .ci/run runs (checked below)"
    ),
    "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu": (
        "the GPU build of onnxruntime needs CUDA and an NVIDIA GPU"
    ),
    "rsync -a audemo-cache/ offline-host:.cache/audemo/": (
        "copies to another machine over ssh"
    ),
    "audemo live --input mic        # or: audemo serve, then open "
    "http://127.0.0.1:8000": (
        "needs a microphone, and a browser for the page; "
        "tests/test_server.py and tests/test_stream.py run both"
    ),
}
r"""Commands that cannot run here, with the reason."""

EMPTY_CACHE = {
    "audemo predict speech.wav --model w2v2-L-robust-12": (
        "the offline recipe is for a machine whose cache lacks the model"
    ),
}
r"""Commands that run with an empty model cache, and why."""

OUTDATED = {
    "does not provide the extra": "pip: the package has no such extra",
    "audemo: warning: --": "audemo warns about an option (an old name?)",
}
r"""Output of a command that works but is printed wrongly in the docs."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep", metavar="DIR", help="work in DIR and keep it (default: temporary)"
    )
    args = parser.parse_args()
    start = time.time()
    work = audeer.mkdir(args.keep) if args.keep else tempfile.mkdtemp()
    try:
        return check(work, start)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def check(work: str, start: float) -> int:
    blocks = {
        document: bash_blocks(os.path.join(ROOT, document)) for document in DOCUMENTS
    }
    test_command = blocks["README.md"].pop(1)
    commands = [
        (document, command)
        for document in DOCUMENTS
        for block in blocks[document]
        for command in block
    ]
    problems = [
        f"SKIP names a command that no document prints: {command!r}"
        for command in SKIP
        if command not in {command for _, command in commands}
    ]
    problems += [
        f"EMPTY_CACHE names a command that no document prints: {command!r}"
        for command in EMPTY_CACHE
        if command not in {command for _, command in commands}
    ]
    problems += same_system_packages(
        commands + [("README.md", line) for line in test_command]
    )

    venv = os.path.join(work, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    examples = make_examples(audeer.mkdir(work, "examples"))
    env = environment(venv, seeded_cache(os.path.join(work, "cache")))

    print(f"skip  README.md: {test_command[0]}\n      ({TEST_COMMAND})")
    ran, skipped = 0, 1
    for number, (document, command) in enumerate(commands):
        if command in SKIP:
            print(f"skip  {document}: {command}\n      ({SKIP[command]})", flush=True)
            skipped += 1
            continue
        cwd = ROOT if in_repository(command) else examples
        if command in EMPTY_CACHE:
            env_command = {**env, "AUDEMO_CACHE_ROOT": audeer.mkdir(work, "empty")}
        else:
            env_command = env
        print(f"run   {document}: {command}", flush=True)
        began = time.time()
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", command],
            cwd=cwd,
            env=env_command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        print(f"      {time.time() - began:.1f} s, exit {result.returncode}")
        ran += 1
        if result.returncode != 0:
            print(result.stdout[-3000:])
            problems.append(f"{document}: {command!r} exited {result.returncode}")
        problems += [
            f"{document}: {command!r}: {reason}: {line.strip()}"
            for line in result.stdout.splitlines()
            for text, reason in OUTDATED.items()
            if text in line
        ]
        if number == 0:
            problems += installed_examples(os.path.join(work, "page"), env)
    print(
        f"{ran} commands ran, {skipped} skipped, {len(problems)} problems, "
        f"{time.time() - start:.0f} s"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def installed_examples(folder: str, env: dict) -> list[str]:
    r"""Run the examples of usage.rst with the installed audemo."""
    page = os.path.join(ROOT, "docs", "usage.rst")
    python = os.path.join(env["VIRTUAL_ENV"], "bin", "python")
    folder = audeer.mkdir(folder)
    print(f"run   the examples of docs/usage.rst, in {folder}", flush=True)
    began = time.time()
    where = subprocess.run(
        [python, "-c", "import audemo; print(audemo.__file__)"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not where:
        return ["audemo cannot be imported after README's first command"]
    if where.startswith(ROOT + os.sep):
        return [f"audemo was imported from the repository ({where}), not installed"]
    result = subprocess.run(
        [python, "-m", "doctest", "-o", "ELLIPSIS", "-o", "NORMALIZE_WHITESPACE"]
        + [page],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    print(f"      {time.time() - began:.1f} s, exit {result.returncode}")
    if result.returncode != 0:
        print(result.stdout[-3000:])
        return ["the examples of docs/usage.rst fail with the installed audemo"]
    return []


def bash_blocks(path: str) -> list[list[str]]:
    r"""Command lines of each bash block of a Markdown or RST file."""
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    if path.endswith(".md"):
        blocks = re.findall(r"^```bash\n(.*?)^```$", text, flags=re.M | re.S)
    else:
        blocks = [
            _dedent(block)
            for block in re.findall(
                r"^( *)\.\. code-block:: bash\n\n((?:\1 +\S.*\n|\n)+)",
                text,
                flags=re.M,
            )
        ]
    return [
        [
            line.strip()
            for line in block.replace("\\\n", " ").splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        for block in blocks
    ]


def _dedent(match: tuple[str, str]) -> str:
    return "\n".join(line.strip() for line in match[1].splitlines())


def same_system_packages(commands: list[tuple[str, str]]) -> list[str]:
    r"""README's and install.rst's apt-get lists must be the same."""
    lists = {
        document: sorted(re.findall(r"apt-get install ([^&]*)", command)[0].split())
        for document, command in commands
        if "apt-get install" in command
    }
    if len(set(map(tuple, lists.values()))) != 1 or len(lists) != len(DOCUMENTS):
        return [f"the documents install different system packages: {lists}"]
    return []


def in_repository(command: str) -> bool:
    r"""Whether a command installs audemo or names files of the repository."""
    return command.startswith(("pip ", "python -m sphinx")) or "docs/" in command


def environment(venv: str, cache_root: str) -> dict:
    r"""The fresh virtual environment, offline, with the seeded cache."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env["PATH"]
    env["VIRTUAL_ENV"] = venv
    env["AUDEMO_CACHE_ROOT"] = cache_root
    env["AUDEMO_OFFLINE"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def seeded_cache(cache_root: str) -> str:
    r"""A model cache holding the test model as the registered model."""
    audemo.testing.create_model(cache_folder(DEFAULT_MODEL, cache_root=cache_root))
    return cache_root


def make_examples(root: str) -> str:
    r"""The files the examples name, in one folder."""
    speech, sampling_rate = audiofile.read(audemo.testing.speech_file())
    audeer.mkdir(root, "corpus")
    audeer.mkdir(root, "recordings")
    audeer.mkdir(root, "calls")
    for folder in ("corpus", "recordings"):
        for number, gain in enumerate([0.5, 1.0]):
            write(os.path.join(root, folder, f"{number}.wav"), gain * speech)
    shutil.copy(audemo.testing.speech_file(), root)
    write(os.path.join(root, "podcast.wav"), np.tile(speech, 3))
    # a call of two speakers: the speech, then a higher version of it
    higher = audresample.resample(speech, sampling_rate, int(sampling_rate * 0.8))
    higher = higher[0]
    write(os.path.join(root, "calls", "call.wav"), np.concatenate([speech, higher]))
    end = len(speech) / sampling_rate
    with open(os.path.join(root, "calls.rttm"), "w") as fp:
        fp.write(f"SPEAKER call 1 0.000 {end:.3f} <NA> <NA> A <NA> <NA>\n")
        fp.write(f"SPEAKER call 1 {end:.3f} 3.300 <NA> <NA> B <NA> <NA>\n")
    for name in ("my-db", "my-audformat-db"):
        make_database(os.path.join(root, name), speech, sampling_rate)
    # the offline recipe: the archive of the model
    model = audemo.testing.create_model(os.path.join(root, "..", "archive-model"))
    with zipfile.ZipFile(os.path.join(root, ARCHIVE), "w") as archive:
        for name in sorted(os.listdir(model)):
            archive.write(os.path.join(model, name), name)
    # and the cache copied from a machine with network access
    seeded_cache(os.path.join(root, "audemo-cache"))
    return root


def make_database(root: str, speech: np.ndarray, sampling_rate: int):
    r"""Four speakers, three categories, gold arousal, dominance, valence."""
    db = audformat.Database(os.path.basename(root))
    db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=5)
    db.schemes["category"] = audformat.Scheme(labels=["happy", "neutral", "sad"])
    db.schemes["sex"] = audformat.Scheme(labels=["female", "male"])
    db.schemes["speaker"] = audformat.Scheme("str")
    rows = []
    for speaker, rate in enumerate([0.8, 0.9, 1.1, 1.2]):
        voice = audresample.resample(speech, sampling_rate, int(sampling_rate * rate))[
            0
        ]
        for level, category in enumerate(["sad", "neutral", "happy"]):
            file = f"audio/{speaker}-{category}.wav"
            write(os.path.join(root, file), (0.4 + 0.3 * level) * voice)
            rows.append((file, speaker, category, 1.5 + 1.5 * level))
    files, speakers, categories, ratings = zip(*rows)
    db["emotion"] = audformat.Table(audformat.filewise_index(list(files)))
    for dimension in ("arousal", "dominance", "valence"):
        db["emotion"][dimension] = audformat.Column(scheme_id="rating")
        db["emotion"][dimension].set(list(ratings))
    db["emotion"]["category"] = audformat.Column(scheme_id="category")
    db["emotion"]["category"].set(list(categories))
    db["emotion"]["speaker"] = audformat.Column(scheme_id="speaker")
    db["emotion"]["speaker"].set([f"speaker-{number}" for number in speakers])
    db["emotion"]["sex"] = audformat.Column(scheme_id="sex")
    db["emotion"]["sex"].set(["female" if n % 2 else "male" for n in speakers])
    db.save(root)


def write(path: str, signal: np.ndarray):
    audeer.mkdir(os.path.dirname(path))
    audiofile.write(path, np.clip(signal, -1, 1), 16000)


if __name__ == "__main__":
    sys.exit(main())
