r"""Attacks on audemo.load_pipeline, each run in a limited child process.

A marker file proves that no attack code ran:
every attack tries to create it.
"""

import json
import os

import pytest
from sandbox import run_limited

import audemo


pytestmark = [pytest.mark.slow, pytest.mark.subprocess]


def emotion_text(model_root, tmp_path, **arguments):
    r"""YAML of a trusted Emotion pipeline, with further arguments."""
    path = str(tmp_path / "trusted.yaml")
    audemo.Emotion(model_root).to_yaml(path)
    with open(path) as fp:
        text = fp.read()
    for name, value in arguments.items():
        text += f"  {name}: {value}\n"
    return text


def load_in_child(tmp_path, texts, *, memory_mb=1500, seconds=60):
    r"""Load each YAML text in one limited child, report what happened."""
    result = run_limited(
        f"""
        import json, time
        import audemo
        outcomes = []
        for i, text in enumerate({texts!r}):
            path = f"pipeline-{{i}}.yaml"
            with open(path, "w") as fp:
                fp.write(text)
            try:
                obj = audemo.load_pipeline(path)
                outcomes.append("loaded " + type(obj).__name__)
            except Exception as ex:
                outcomes.append(type(ex).__name__ + ": " + str(ex))
        if any(outcome.startswith("loaded") for outcome in outcomes):
            time.sleep(1)  # let a started command create its marker
        print(json.dumps(outcomes))
        """,
        cwd=str(tmp_path),
        memory_mb=memory_mb,
        seconds=seconds,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


POPEN = '  args: [sh, -c, "touch {marker}"]\n'


def test_class_keys_without_dollar(tmp_path, model_root):
    # audobject reads the top-level key as a class with or without "$"
    # (and with a version); the old checks only looked at "$" keys
    without_fingerprint = "\n".join(
        line
        for line in emotion_text(model_root, tmp_path).splitlines()
        if not line.strip().startswith("fingerprint")
    )
    texts = [
        "subprocess.Popen:\n" + POPEN.format(marker="marker-0"),
        "subprocess.Popen==99:\n" + POPEN.format(marker="marker-1"),
        "os.system:\n  command: touch marker-2\n",
        # no "$": loaded without any fingerprint check before
        without_fingerprint.replace("$audemo", "audemo", 1),
        emotion_text(model_root, tmp_path).replace("$audemo", "audemo", 1),
    ]
    outcomes = load_in_child(tmp_path, texts)
    for outcome in outcomes:
        assert outcome.startswith("ValueError"), outcome
        assert "not with a class as audemo writes it" in outcome
        assert "pipeline-" in outcome  # names the file
    assert not [name for name in os.listdir(tmp_path) if name.startswith("marker")]


def test_nested_class_keys(tmp_path, model_root):
    trusted = emotion_text(model_root, tmp_path)
    popen = "{'$subprocess.Popen': {'args': [sh, -c, 'touch marker-%d']}}"
    texts = [
        # a class as an argument, in a list, as a dict value
        emotion_text(model_root, tmp_path, segment=popen % 0),
        emotion_text(model_root, tmp_path, outputs=f"[{popen % 1}]"),
        emotion_text(model_root, tmp_path, channels=f"{{x: {popen % 2}}}"),
        # a class key that audobject would ignore after another key,
        # or after an allowed class: refused, not guessed
        emotion_text(
            model_root,
            tmp_path,
            segment="{'$audemo.core.segment.VoiceActivity': {}, "
            "'$subprocess.Popen': {args: [sh, -c, 'touch marker-3']}}",
        ),
        emotion_text(model_root, tmp_path, channels=f"{{a: 1, {popen[1:-1] % 4}}}"),
        # a class in the place of an argument name
        trusted.replace("  channels:", f"  {popen[1:-1] % 5}\n  channels:"),
        # legacy prefixes audobject reads as classes without "$"
        emotion_text(model_root, tmp_path, segment="{auglib.core.Thing: {}}"),
        # a package prefix does not change the class
        emotion_text(
            model_root,
            tmp_path,
            segment="{'$audemo:subprocess.Popen': {args: [sh, -c, 'touch marker-7']}}",
        ),
        # malformed class keys
        "$subprocess.Popen==1==2:\n" + POPEN.format(marker="marker-8"),
        "$a:b:subprocess.Popen:\n" + POPEN.format(marker="marker-9"),
        # arguments that are not a mapping
        "$audemo.core.segment.VoiceActivity: [1, 2]\n",
    ]
    outcomes = load_in_child(tmp_path, texts)
    expected = [
        "'subprocess.Popen', which is not allowed",
        "'subprocess.Popen', which is not allowed",
        "'subprocess.Popen', which is not allowed",
        "must be the only key of its mapping",
        "must be the only key of its mapping",
        "argument named '$subprocess.Popen'",
        "'auglib.core.Thing', which is not allowed",
        "'subprocess.Popen', which is not allowed",
        "is not '$module.Class'",
        "is not '$module.Class'",
        "not a mapping of argument names",
    ]
    for outcome, message in zip(outcomes, expected, strict=True):
        assert outcome.startswith("ValueError"), outcome
        assert message in outcome, outcome
    assert not [name for name in os.listdir(tmp_path) if name.startswith("marker")]


def test_yaml_bomb(tmp_path, model_root):
    # 9 levels of 9 aliases: 9**9 (387 million) strings from 500 bytes;
    # before, walking it took minutes and gigabytes
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        items = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{items}]")
    bomb = "$audemo.core.segment.VoiceActivity:\n  " + "\n  ".join(lines) + "\n"
    assert len(bomb) < 600
    # also as an argument of a pipeline that is otherwise fine
    in_emotion = emotion_text(model_root, tmp_path) + "  bomb:\n    "
    in_emotion += "\n    ".join(lines) + "\n"
    outcomes = load_in_child(tmp_path, [bomb, in_emotion], memory_mb=1500, seconds=20)
    for outcome in outcomes:
        assert outcome.startswith("ValueError"), outcome
        assert "expands to more than 100000 values" in outcome


def test_file_swapped_after_check(tmp_path, model_root):
    # the file is replaced right after it was opened:
    # before, the checks read the first file and audobject the second
    trusted = emotion_text(model_root, tmp_path)
    with open(tmp_path / "emotion.yaml", "w") as fp:
        fp.write(trusted)
    with open(tmp_path / "evil.yaml", "w") as fp:
        fp.write("$subprocess.Popen:\n" + POPEN.format(marker="marker"))
    result = run_limited(
        """
        import builtins, os, time
        import audemo
        path = os.path.abspath("emotion.yaml")
        opened = []
        real_open = builtins.open
        def swapping_open(file, *args, **kwargs):
            fp = real_open(file, *args, **kwargs)
            if os.path.abspath(str(file)) == path:
                opened.append(file)
                if len(opened) == 1:
                    os.replace("evil.yaml", path)
            return fp
        builtins.open = swapping_open
        obj = audemo.load_pipeline("emotion.yaml")
        time.sleep(1)  # let a started command create its marker
        print(type(obj).__name__, len(opened))
        """,
        cwd=str(tmp_path),
        memory_mb=1500,
        seconds=60,
    )
    assert not (tmp_path / "marker").exists()
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["Emotion", "1"]


def test_fifo_refused(tmp_path, model_root):
    # a FIFO gives the checks a trusted pipeline and the next read an attack
    trusted = emotion_text(model_root, tmp_path)
    evil = "$subprocess.Popen:\n" + POPEN.format(marker="marker")
    result = run_limited(
        f"""
        import errno, os, threading, time
        import audemo
        path = os.path.abspath("pipeline.yaml")
        os.mkfifo(path)

        def write(contents):
            for text in contents:
                deadline = time.monotonic() + 5
                while True:  # wait for a reader without blocking forever
                    try:
                        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                        break
                    except OSError as ex:
                        if ex.errno != errno.ENXIO or time.monotonic() > deadline:
                            return
                        time.sleep(0.01)
                os.write(fd, text.encode())
                os.close(fd)
                time.sleep(0.5)  # the first reader has finished reading

        threading.Thread(target=write, args=({[trusted, evil]!r},), daemon=True).start()
        try:
            audemo.load_pipeline(path)
            print("loaded")
        except ValueError as ex:
            print(ex)
        time.sleep(1)
        """,
        cwd=str(tmp_path),
        memory_mb=1500,
        seconds=60,
    )
    assert not (tmp_path / "marker").exists()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "is not a regular file" in result.stdout
