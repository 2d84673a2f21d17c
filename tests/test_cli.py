import argparse
import fcntl
import io
import os
import pty
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import termios

import numpy as np
import pandas as pd
import pytest

import audeer
import audformat

import audemo
from audemo.core.cli import main
from audemo.core.results import read_results
from audemo.core.utils import OPTIONAL_PACKAGES


# the command installed with this interpreter's environment,
# whether or not that environment is on PATH
AUDEMO = os.path.join(os.path.dirname(sys.executable), "audemo")


def run_cli(*args, cwd=None):
    r"""Run the installed ``audemo`` command in a subprocess."""
    return subprocess.run(
        [AUDEMO, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def read_csv(text):
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns[:3]) == ["file", "start", "end"]
    return frame.drop(columns=["start", "end"]).set_index("file")


@pytest.mark.slow
@pytest.mark.subprocess
def test_predict_files_to_stdout(model_root, speech_files, cache_root):
    result = run_cli(
        "predict", *speech_files, "--model", model_root, "--cache-root", cache_root
    )
    assert result.returncode == 0, result.stderr
    frame = read_csv(result.stdout)
    assert list(frame.columns) == ["arousal", "dominance", "valence"]
    assert list(frame.index) == speech_files
    expected = audemo.Emotion(model_root).process_files(speech_files)
    np.testing.assert_allclose(frame.values, expected.values, rtol=1e-6)
    # the progress bar and a summary go to stderr, not into the CSV
    assert "arousal" not in result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"audemo: 3 files, \d+\.\d s of audio, 3 rows, 0 failed, \S+ s", summary
    ), summary
    assert " 0.0 s of audio" not in summary


def test_predict_folder_relative_paths(model_root, speech_root, tmp_path):
    nested = audeer.mkdir(tmp_path / "corpus" / "speaker1")
    for name in os.listdir(speech_root):
        shutil.copy(os.path.join(speech_root, name), nested)
    with open(tmp_path / "corpus" / "notes.txt", "w") as fp:
        fp.write("not audio")
    output = str(tmp_path / "results.csv")
    code = main(
        [
            "predict",
            str(tmp_path / "corpus"),
            "--model",
            model_root,
            "--outputs",
            "logits,hidden_states",
            "-o",
            output,
        ]
    )
    assert code == 0
    frame = read_csv(open(output).read())
    assert sorted(frame.index) == sorted(
        f"speaker1/{name}" for name in os.listdir(speech_root)
    )
    assert frame.shape[1] == 3 + 32


def test_predict_database_parquet(model_root, speech_files, tmp_path):
    root = audeer.mkdir(tmp_path / "db")
    files = []
    for file in speech_files:
        shutil.copy(file, root)
        files.append(os.path.basename(file))
    db = audformat.Database("cli-test")
    db["files"] = audformat.Table(audformat.filewise_index(files))
    db.save(root)
    output = str(tmp_path / "results.parquet")
    code = main(
        ["predict", root, "--model", model_root, "-o", output, "--num-workers", "2"]
    )
    assert code == 0
    frame = pd.read_parquet(output)
    assert sorted(frame.index.get_level_values("file")) == sorted(files)


def test_predict_several_inputs_absolute_paths(
    model_root, speech_root, speech_files, capsys
):
    code = main(["predict", speech_root, speech_files[0], "--model", model_root])
    assert code == 0
    frame = read_csv(capsys.readouterr().out)
    # the file named twice (in the folder and on its own) is processed once
    assert len(frame) == 3
    assert all(os.path.isabs(file) for file in frame.index)


@pytest.mark.slow
@pytest.mark.subprocess
def test_predict_failures(model_root, speech_files, tmp_path):
    missing = str(tmp_path / "missing.wav")
    result = run_cli("predict", missing, "--model", model_root)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"audemo: error: Input '{missing}' does not exist."
    ]
    assert "Traceback" not in result.stderr

    short = str(tmp_path / "short.wav")
    import audiofile

    audiofile.write(short, np.zeros(100, np.float32), 16000)
    result = run_cli("predict", short, "--model", model_root)
    assert result.returncode == 1
    assert "short.wav" in result.stderr
    assert "Traceback" not in result.stderr

    result = run_cli("predict", speech_files[0], "--model", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "nowhere" in result.stderr

    empty = audeer.mkdir(tmp_path / "empty")
    assert main(["predict", empty, "--model", model_root]) == 1
    assert main(["predict", speech_files[0], "--model", model_root, "-o", "x.txt"]) == 1


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.network
def test_download_and_info(server, archive, cache_root):
    server.files["/cli.zip"] = archive
    url = server.url("/cli.zip")
    result = run_cli("download", url, "--model-cache-root", cache_root)
    assert result.returncode == 0, result.stderr
    folder = result.stdout.strip()
    assert folder.startswith(os.path.join(cache_root, "models"))
    result = run_cli("info", url, "--model-cache-root", cache_root)
    assert result.returncode == 0, result.stderr
    assert f"url: {url}" in result.stdout
    assert f"folder: {folder}" in result.stdout
    fingerprint = audemo.Emotion(url, model_cache_root=cache_root).fingerprint
    assert f"fingerprint: {fingerprint}" in result.stdout
    assert "labels: [arousal, dominance, valence]" in result.stdout
    assert server.requests["/cli.zip"] == 1


def test_info_registered_model_offline(cache_root, monkeypatch, capsys):
    # the registry entry is shown without the model: no download, no network
    monkeypatch.setenv("AUDEMO_OFFLINE", "1")
    assert main(["info", "--model-cache-root", cache_root]) == 0
    out = capsys.readouterr().out
    entry = audemo.MODELS["w2v2-L-robust-12"]
    assert f"url: {entry.url}" in out
    assert f"license: {entry.license}" in out
    assert f"description: {entry.description}" in out
    assert "sha256: not pinned" in out
    assert "folder: not in the cache" in out
    assert "fingerprint:" not in out
    assert not os.path.exists(os.path.join(cache_root, "models"))
    # --download needs the network
    assert main(["info", "--model-cache-root", cache_root, "--download"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("audemo: error: Model 'w2v2-L-robust-12' is not in the cache")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.network
def test_info_registered_model(server, archive, cache_root, monkeypatch, capsys):
    from audemo.core.model import api as model_module
    from audemo.core.model.registry import RegisteredModel

    server.files["/registered.zip"] = archive
    registered = RegisteredModel(
        url=server.url("/registered.zip"),
        sha256=None,
        license="CC BY-NC-SA 4.0",
        description="test",
    )
    monkeypatch.setitem(model_module.MODELS, "w2v2-L-robust-12", registered)
    assert main(["info", "--model-cache-root", cache_root]) == 0
    assert "folder: not in the cache" in capsys.readouterr().out
    assert server.requests.get("/registered.zip", 0) == 0
    assert main(["info", "--model-cache-root", cache_root, "--download"]) == 0
    out = capsys.readouterr().out
    assert "model: w2v2-L-robust-12" in out
    assert "license: CC BY-NC-SA 4.0" in out
    assert "fingerprint: " in out and "labels: [arousal, dominance, valence]" in out
    assert server.requests["/registered.zip"] == 1
    # now in the cache: shown without --download, downloaded once
    assert main(["info", "--model-cache-root", cache_root]) == 0
    assert "fingerprint: " in capsys.readouterr().out
    assert server.requests["/registered.zip"] == 1


@pytest.mark.slow
@pytest.mark.subprocess
def test_module_entry_point(model_root):
    result = subprocess.run(
        [sys.executable, "-m", "audemo", "info", model_root],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "fingerprint:" in result.stdout


@pytest.mark.slow
@pytest.mark.subprocess
def test_broken_pipe(model_root):
    result = subprocess.run(
        f"{shlex.quote(AUDEMO)} info {shlex.quote(model_root)} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.startswith("model:")
    assert "error" not in result.stderr


def test_predict_windows_vad_errors(model_root, speech_files, tmp_path, capsys):
    assert (
        main(["predict", speech_files[0], "--model", model_root, "--win-dur", "1"]) == 0
    )
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) >= 3
    assert list(frame["start"][:3]) == [0.0, 0.5, 1.0]  # seconds

    assert main(["predict", speech_files[0], "--model", model_root, "--vad"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) >= 1
    assert frame["start"][0] > 0

    missing = str(tmp_path / "missing.wav")
    with pytest.warns(RuntimeWarning, match="missing.wav"):
        code = main(
            [
                "predict",
                speech_files[0],
                missing,
                "--model",
                model_root,
                "--errors",
                "coerce",
            ]
        )
    assert code == 0
    captured = capsys.readouterr()
    frame = read_csv(captured.out)
    assert frame.loc[missing].isna().all()
    assert "2 files" in captured.err and "1 failed" in captured.err

    assert main(["predict", speech_files[0], "--hop-dur", "1"]) == 1
    assert "--hop-dur needs --win-dur" in capsys.readouterr().err


def test_csv_formula_injection(model_root, speech_files, tmp_path, capsys):
    import csv

    # file names a spreadsheet would run as formulas, in a real database
    names = ["=1+2.wav", "-loud.wav", "@sum.wav", "+plus.wav", "'=quoted.wav"]
    names += ["'plain.wav", "normal.wav"]
    root = audeer.mkdir(tmp_path / "db")
    for number, name in enumerate(names):
        shutil.copy(speech_files[number % 3], os.path.join(root, name))
    db = audformat.Database("formulas", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float")
    db["gold"] = audformat.Table(audformat.filewise_index(names))
    db["gold"]["arousal"] = audformat.Column(scheme_id="rating")
    db["gold"]["arousal"].set(np.linspace(0, 1, len(names)))
    db.save(root)

    results = str(tmp_path / "results.csv")
    args = ["predict", root, "--model", model_root, "--outputs", "hidden_states"]
    assert main([*args, "-o", results]) == 0
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert stdout == open(results).read()
    rows = list(csv.reader(io.StringIO(stdout)))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "\t", "\r")]
    files = [row[0] for row in rows[1:]]
    quoted = ["'=1+2.wav", "'-loud.wav", "'@sum.wav", "'+plus.wav", "''=quoted.wav"]
    assert sorted(files) == sorted(quoted + ["'plain.wav", "normal.wav"])
    # numbers stay numbers, negative ones included
    numbers = pd.read_csv(results).drop(columns=["file", "start", "end"])
    assert (numbers.dtypes == "float64").all() and (numbers < 0).any().any()

    # audemo reads its CSV back exactly and finds the files
    frame = read_results(results)
    assert sorted(frame.index.get_level_values("file")) == sorted(names)
    expected = audemo.Emotion(model_root, outputs="hidden_states").process_index(
        db.files, root=root
    )
    np.testing.assert_allclose(frame.to_numpy(), expected.to_numpy(), rtol=1e-6)
    report = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{root}:gold", "-o", report]
    assert main(argv + ["--bootstrap", "0"]) == 1  # no arousal in an embedding
    assert "share no column" in capsys.readouterr().err
    args = ["predict", root, "--model", model_root, "-o", results]
    assert main(args) == 1  # results.csv exists
    assert "--overwrite" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main(argv + ["--bootstrap", "0"]) == 0
    # a count, not 7.0
    assert re.search(rf"n={len(names)}$", capsys.readouterr().err, re.MULTILINE)


@pytest.fixture
def no_processing(monkeypatch):
    r"""Fail the test if any file is processed."""

    def refuse(*args, **kwargs):
        raise AssertionError("files were processed before the output was checked")

    monkeypatch.setattr(audemo.Emotion, "process_index", refuse)


OUTPUT_CASES = [
    (["predict", "{existing}"], "exists: pass --overwrite"),
    (["predict", "{tmp}/new/r.csv"], "does not exist: create"),
    (["predict", "{tmp}/r.txt"], "must end in .csv or .parquet"),
    (
        ["predict", "{tmp}/r.parquet", "--time-format", "seconds"],
        "--time-format applies to CSV only",
    ),
    (["predict", "{tmp}/r.csv", "--file-key", "content"], "--file-key needs"),
    (["predict", "{tmp}/r.csv", "--head", "h", "--outputs", "hidden_states"], "--head"),
    (["predict", "{tmp}/r.csv", "--hop-dur", "1"], "--hop-dur needs --win-dur"),
    (
        ["predict", "{tmp}/r.csv", "--calibration", "c.yaml", "--head", "h"],
        "--head predicts categories: leave out one",
    ),
    (
        [
            "predict",
            "{tmp}/r.csv",
            "--calibration",
            "c.yaml",
            "--outputs",
            "hidden_states",
        ],
        "add logits to --outputs",
    ),
    (["calibrate", "{existing}", "--truth", "x:y"], "must end in .yaml or .yml"),
    (["calibrate", "{tmp}/no/c.yaml", "--truth", "x:y"], "does not exist"),
    (["report", "{existing_report}", "--truth", "x:y"], "exists: pass --overwrite"),
    (["report", "{tmp}/no/r.md", "--truth", "x:y"], "does not exist"),
    (["plot", "{tmp}/no/p.png"], "does not exist"),
    (["plot", "{tmp}/p.xyz"], "must end in"),
    (["plot", "{existing}"], "must end in"),
]


@pytest.mark.parametrize("argv, message", OUTPUT_CASES)
def test_outputs_checked_before_processing(
    model_root, speech_files, tmp_path, capsys, no_processing, argv, message
):
    existing = tmp_path / "results.csv"
    existing.write_text("keep me")
    existing_report = tmp_path / "report.md"
    existing_report.write_text("keep me")
    results = str(tmp_path / "in.csv")
    open(results, "w").write("file,arousal,dominance,valence\na.wav,0.5,0.5,0.5\n")
    command, output, *options = [
        arg.format(tmp=tmp_path, existing=existing, existing_report=existing_report)
        for arg in argv
    ]
    inputs = [*speech_files, "--model", model_root] if command == "predict" else []
    inputs += [results] if command != "predict" else []
    assert main([command, *inputs, "-o", output, *options]) == 1
    err = capsys.readouterr().err
    assert err.startswith("audemo: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert existing.read_text() == "keep me"
    assert existing_report.read_text() == "keep me"
    assert not os.path.exists(tmp_path / "new")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_output_folder_not_writable(model_root, speech_files, tmp_path, capsys):
    folder = audeer.mkdir(tmp_path / "read-only")
    os.chmod(folder, 0o500)
    output = os.path.join(folder, "r.csv")
    assert main(["predict", speech_files[0], "--model", model_root, "-o", output]) == 1
    assert "Cannot write to folder" in capsys.readouterr().err


def test_output_overwrite_and_extension_case(model_root, speech_files, tmp_path):
    output = str(tmp_path / "results.CSV")
    predict = ["predict", speech_files[0], "--model", model_root, "-o", output]
    assert main(predict) == 0
    first = open(output).read()
    assert first.startswith("file,start,end,arousal")
    open(output, "w").write("old")
    assert main(predict) == 1
    assert open(output).read() == "old"
    assert main([*predict, "--overwrite"]) == 0
    assert open(output).read() == first
    parquet = str(tmp_path / "results.PARQUET")
    assert main(["predict", speech_files[0], "--model", model_root, "-o", parquet]) == 0
    assert pd.read_parquet(parquet).index.names == ["file", "start", "end"]


def test_time_format(model_root, speech_files, tmp_path, capsys):

    expected = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.3).process_files(
        speech_files[:2]
    )
    args = ["predict", *speech_files[:2], "--model", model_root]
    args += ["--win-dur", "1", "--hop-dur", "0.3"]
    seconds = str(tmp_path / "seconds.csv")
    timedelta = str(tmp_path / "timedelta.csv")
    parquet = str(tmp_path / "results.parquet")
    assert main([*args, "-o", seconds]) == 0
    assert main([*args, "-o", timedelta, "--time-format", "timedelta"]) == 0
    assert main([*args, "-o", parquet]) == 0
    raw = pd.read_csv(seconds)
    assert raw["start"].dtype == "float64" and raw["end"].dtype == "float64"
    assert raw["start"][1] == 0.3
    assert "days" in open(timedelta).read()
    for path in (seconds, timedelta, parquet):
        frame = read_results(path)
        # exact to the nanosecond in every format
        pd.testing.assert_index_equal(frame.index, expected.index, exact=False)
    assert isinstance(pd.read_parquet(parquet).index.levels[1][0], pd.Timedelta)
    # stdout is CSV with seconds as well
    assert main(args) == 0
    assert capsys.readouterr().out == open(seconds).read()


def test_version(capsys):
    with pytest.raises(SystemExit) as error:
        main(["--version"])
    assert error.value.code == 0
    assert capsys.readouterr().out.strip() == f"audemo {audemo.__version__}"


def test_unknown_option_shows_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as error:
        main(["predict", "a.wav", "--bogus"])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: audemo predict")
    assert "--time-format" in err  # the predict usage, not the top-level one
    assert err.strip().endswith(
        "audemo predict: error: unrecognized arguments: --bogus"
    )


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    import audiofile

    rng = np.random.default_rng(1)
    path = str(tmp_path_factory.mktemp("stereo") / "stereo.wav")
    signal = (rng.standard_normal((2, 40000)) * 0.1).astype("float32")
    audiofile.write(path, signal, 16000)
    return path


@pytest.mark.parametrize(
    "argv, options",
    [
        (["--channels", "1"], {"channels": 1}),
        (["--mixdown"], {"channels": None, "mixdown": True}),
        (["--channels", "0,1", "--mixdown"], {"channels": [0, 1], "mixdown": True}),
        (["--chunk-dur", "1"], {"chunk_dur": 1.0}),
        (["--chunk-dur", "none"], {"chunk_dur": None}),
        (["--precision", "int8"], {"precision": "int8"}),
        (["--num-threads", "1", "--device", "cpu"], {"num_threads": 1}),
    ],
)
def test_predict_runtime_options(model_root, stereo, tmp_path, capsys, argv, options):
    model_cache = str(tmp_path / "models")
    code = main(
        ["predict", stereo, "--model", model_root, "--model-cache-root"]
        + [model_cache, *argv]
    )
    assert code == 0, argv
    frame = read_csv(capsys.readouterr().out)
    expected = audemo.Emotion(
        model_root, model_cache_root=model_cache, **options
    ).process_file(stereo)
    np.testing.assert_allclose(frame.to_numpy(), expected.to_numpy(), rtol=1e-6)


def test_predict_channels_need_mixdown(model_root, stereo, capsys):
    assert main(["predict", stereo, "--model", model_root, "--channels", "0,1"]) == 1
    assert "add --mixdown" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--outputs", "scores"], "not one of logits"),
        (["--chunk-dur", "-1"], "'-1' is not a positive number of seconds or none"),
        (["--chunk-dur", "long"], "'long' is not a positive number of seconds"),
        (["--channels", "left"], "'left' is not a channel number or a list like 0,1"),
        (["--time-format", "x"], "invalid choice: 'x'"),
    ],
)
def test_predict_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as error:
        main(["predict", "a.wav", *argv])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: audemo predict") and message in err


def test_no_command(capsys):
    with pytest.raises(SystemExit) as error:
        main([])
    assert error.value.code == 2
    assert "the following arguments are required" in capsys.readouterr().err


def test_results_cache_and_model_cache(model_root, speech_root, tmp_path, capsys):
    corpus = str(tmp_path / "corpus")
    shutil.copytree(speech_root, corpus)
    results_cache = str(tmp_path / "results-cache")
    args = ["predict", corpus, "--model", model_root, "--cache-root", results_cache]
    assert main([*args, "--file-key", "content"]) == 0
    first = capsys.readouterr().out
    assert os.listdir(results_cache)
    # --cache-root is the results cache only: no models there
    assert not os.path.exists(os.path.join(results_cache, "models"))
    # the same content elsewhere finds its cache (file_key="content")
    moved = str(tmp_path / "moved")
    shutil.move(corpus, moved)
    args[1] = moved
    before = sorted(audeer.list_file_names(results_cache, recursive=True))
    assert main([*args, "--file-key", "content"]) == 0
    assert capsys.readouterr().out == first
    # read from the cache: no part was written again
    assert sorted(audeer.list_file_names(results_cache, recursive=True)) == before
    # keyed on path, size and time (the default), moved files are new
    assert main(args) == 0
    assert capsys.readouterr().out == first
    assert len(audeer.list_file_names(results_cache, recursive=True)) > len(before)


@pytest.mark.slow
@pytest.mark.subprocess
def test_clean_warnings(model_root, speech_files, tmp_path):
    missing = str(tmp_path / "missing.wav")
    result = run_cli(
        "predict", speech_files[0], missing, "--model", model_root, "--errors", "coerce"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    warning = [line for line in lines if "audemo: warning: " in line]
    assert len(warning) == 1 and "missing.wav" in result.stderr
    assert "RuntimeWarning" not in result.stderr
    assert "warnings.warn" not in result.stderr and "bin/audemo" not in result.stderr
    summary = lines[-1]
    assert summary.split("audemo: ")[-1].startswith("2 files, ")
    assert "1 failed" in summary
    # singular
    result = run_cli("predict", speech_files[0], "--model", model_root)
    assert result.stderr.splitlines()[-1].split("audemo: ")[-1].startswith("1 file, ")
    assert ", 1 row, " in result.stderr


def test_cache_root_old_name_for_model_cache(cache_root, capsys):
    # download, info, compare and report had only a model cache: old name kept
    with pytest.warns(FutureWarning, match="--model-cache-root"):
        assert main(["info", "--cache-root", cache_root]) == 0
    assert f"cache: {cache_root}" in capsys.readouterr().out
    argv = ["info", "--cache-root", cache_root, "--model-cache-root", cache_root]
    assert main(argv) == 1
    assert "give one" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.subprocess
def test_summary_counts_failed_windowed_files(model_root, speech_files, tmp_path):
    missing = str(tmp_path / "missing.wav")
    args = ["predict", speech_files[0], missing, "--model", model_root]
    args += ["--win-dur", "1", "--errors", "coerce"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"audemo: 2 files, \d+\.\d s of audio, \d+ rows, 1 failed, \S+ s", summary
    ), summary


@pytest.mark.slow
@pytest.mark.subprocess
def test_interrupted(model_root, speech_files, tmp_path):
    folder = audeer.mkdir(tmp_path / "many")
    for number in range(500):
        os.symlink(speech_files[number % 3], os.path.join(folder, f"{number}.wav"))
    output = str(tmp_path / "results.csv")
    # stderr on a terminal of 80 columns, where the progress bar shows
    terminal, stderr = pty.openpty()
    fcntl.ioctl(stderr, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        [AUDEMO, "predict", folder, "--model", model_root, "--num-workers", "1"]
        + ["-o", output],
        stderr=stderr,
    )
    os.close(stderr)
    err = os.read(terminal, 1)  # the progress bar: files are being processed
    process.send_signal(signal.SIGINT)
    process.wait(timeout=120)
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break  # pragma: no cover - Linux raises instead
        err += chunk
    os.close(terminal)
    err = err.decode()
    assert process.returncode == 130, err
    assert "Process 500 files" in err  # the bar, on a terminal
    assert err.strip().endswith("audemo: interrupted")
    assert not os.path.exists(output)


def test_compare(model_root, speech_root, tmp_path, capsys):
    model_cache = str(tmp_path / "models")
    argv = ["compare", speech_root, "--model", model_root, "--cache-root", model_cache]
    with pytest.warns(FutureWarning, match="--model-cache-root"):
        assert main(argv) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split()[0] == "ccc"
    assert "arousal" in table and "valence" in table


@pytest.fixture
def categories_database(speech_files, tmp_path):
    r"""Three speakers saying the three sentences, labelled by sentence."""
    root = audeer.mkdir(tmp_path / "categories-db")
    files, speakers, labels = [], [], []
    for speaker in ("a", "b", "c"):
        for file, label in zip(speech_files, ["happy", "sad", "neutral"]):
            files.append(f"{speaker}-{os.path.basename(file)}")
            shutil.copy(file, os.path.join(root, files[-1]))
            speakers.append(speaker)
            labels.append(label)
    index = audformat.filewise_index(files)
    db = audformat.Database("categories", source="espeak-ng", usage="unrestricted")
    for table_id, column, values in [
        ("emotion", "emotion", labels),
        ("files", "speaker", speakers),
    ]:
        db[table_id] = audformat.Table(index)
        db[table_id][column] = audformat.Column()
        db[table_id][column].set(values)
    db.save(root)
    return root


def test_categories_and_head(categories_database, model_root, tmp_path, capsys):
    root = categories_database
    head = str(tmp_path / "head")
    picture = str(tmp_path / "confusion.png")
    argv = ["categories", f"{root}:emotion:emotion", "--speaker", "speaker"]
    argv += ["-o", head, "--model", model_root, "--confusion", picture]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == head
    assert "leave-one-speaker-out over 3 speakers: UAR " in err
    assert os.path.getsize(picture) > 1000
    results = str(tmp_path / "categories.csv")
    argv = ["predict", root, "--model", model_root, "--head", head, "-o", results]
    assert main(argv) == 0
    frame = read_results(results)
    classes = ["happy", "neutral", "sad"]
    # the predicted category next to the probabilities
    assert sorted(frame.columns[:-1]) == classes
    assert frame.columns[-1] == "category"
    assert len(frame) == 9
    assert frame["category"].tolist() == frame[classes].idxmax(axis=1).tolist()
    # and in a database table, as text
    argv = ["predict", root, "--model", model_root, "--head", head]
    assert main([*argv, "-o", root, "--table", "categories"]) == 0
    table = audformat.Database.load(root)["categories"]
    assert table["category"].get().tolist() == frame["category"].tolist()
    assert table.columns["category"].scheme.dtype == "str"


@pytest.mark.parametrize(
    "labels, message",
    [
        ("{root}:emotion", "Labels must be DB_FOLDER:TABLE:COLUMN, not"),
        ("{root}:emotion:mood", "Table 'emotion' has no column 'mood': it has"),
        ("{root}:gold:emotion", "has no table 'gold'"),
    ],
)
def test_categories_errors(categories_database, tmp_path, capsys, labels, message):
    argv = ["categories", labels.format(root=categories_database)]
    argv += ["--speaker", "speaker", "-o", str(tmp_path / "head")]
    assert main(argv) == 1
    assert message in capsys.readouterr().err


# ----- the command line speaks command line -------------------------------

# advice in Python: module paths, argument=value, calls and methods
PYTHON_ADVICE = re.compile(r"audemo\.\w|\b\w+=\S|\w\(|\.\w+\(")


@pytest.fixture(scope="module")
def results_files(model_root, speech_files, tmp_path_factory):
    r"""A call of two speakers, its turns, and results of each kind."""
    import audiofile

    root = tmp_path_factory.mktemp("command-line")
    call = str(root / "call.wav")
    subprocess.run(["sox", speech_files[0], speech_files[1], call], check=True)
    first = audiofile.duration(speech_files[0])
    paths = {"call": call, "root": str(root)}
    for name, second in [("rttm", 2.0), ("short", 0.01)]:
        paths[name] = str(root / f"{name}.rttm")
        with open(paths[name], "w") as file:
            file.write(f"SPEAKER call 1 0 {first:.3f} <NA> <NA> A <NA> <NA>\n")
            file.write(f"SPEAKER call 1 {first:.3f} {second} <NA> <NA> B <NA> <NA>\n")
    # a gold database of six files on a 1..7 scale, two speakers
    gold = audeer.mkdir(root / "gold")
    files = [f"{number}.wav" for number in range(6)]
    for number, file in enumerate(files):
        shutil.copy(speech_files[number % 3], os.path.join(gold, file))
    db = audformat.Database("gold", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=7)
    db["gold"] = audformat.Table(audformat.filewise_index(files))
    db["gold"]["arousal"] = audformat.Column(scheme_id="rating")
    db["gold"]["arousal"].set([1.0, 3.0, 6.0, 2.0, 4.0, 7.0])
    db["gold"]["speaker"] = audformat.Column()
    db["gold"]["speaker"].set(["a", "b"] * 3)
    # two rated segments per file
    db["segments"] = audformat.Table(
        audformat.segmented_index(sorted(files * 2), [0, 1] * 6, [1, 2] * 6)
    )
    db["segments"]["arousal"] = audformat.Column(scheme_id="rating")
    db["segments"]["arousal"].set([1.0, 3.0, 2.0, 4.0, 6.0, 6.0, 2.0, 2.0, 4, 5, 7, 7])
    db.save(gold)
    paths["gold"] = gold
    for name, options in {
        "files": speech_files,
        "windows": [*speech_files, "--win-dur", "1"],
        "turns": [call, "--speakers", paths["rttm"]],
        "gold-files": [gold],
        "gold-windows": [gold, "--win-dur", "1", "--hop-dur", "0.5"],
    }.items():
        paths[name] = str(root / f"{name}.csv")
        argv = ["predict", *options, "--model", model_root, "-o", paths[name]]
        assert main(argv) == 0
    return paths


@pytest.mark.parametrize(
    "argv, flags",
    [
        (["summary", "{files}"], ["audemo predict --speakers"]),
        (
            ["plot", "{files}", "--kind", "conversation", "-o", "{root}/c.png"],
            ["--kind conversation", "audemo predict --speakers"],
        ),
        (
            ["plot", "{files}", "--kind", "timeline", "-o", "{root}/t.png"],
            ["one row per file", "--win-dur 1.0", "--vad"],
        ),
        (
            ["plot", "{windows}", "--kind", "timeline", "-o", "{root}/t.png"],
            ["choose one, e.g. --file /"],
        ),
        (
            ["predict", "{call}", "--speakers", "{short}", "--model", "{model}"],
            ["1 turn shorter than 25 ms", "--speakers", "--errors coerce"],
        ),
        (
            ["predict", "{call}", "--win-dur", "0.01", "--model", "{model}"],
            ["--win-dur must be at least", "--win-dur 1.0", "leave out --win-dur"],
        ),
        (
            ["predict", "{call}", "--win-dur", "1", "--hop-dur", "0"],
            ["--hop-dur must be positive", "--hop-dur 0.5", "half of --win-dur"],
        ),
        (
            ["predict", "{call}", "--chunk-dur", "0.01", "--model", "{model}"],
            ["--chunk-dur 20.0", "--chunk-dur none"],
        ),
        (
            ["predict", "{call}", "--channels", "1", "--model", "{model}"],
            ["has 1 channel, but --channels 1 selects channel 1", "--channels 0."],
        ),
        (
            ["predict", "{call}", "--head", "{root}", "--model", "{model}"],
            ["--head /", "is not a folder written by audemo categories -o FOLDER"],
        ),
        (
            ["predict", "{call}", "--head", "{model}", "--model", "{model}"],
            ["model.onnx' is not a categories head"],
        ),
        (  # files relative to a database folder
            ["predict", "{gold}", "--channels", "1", "--model", "{model}"],
            ["Cannot process '0.wav': it has 1 channel", "--channels 0."],
        ),
        (
            ["calibrate", "{gold-files}", "--truth", "{gold}:gold", "--folds", "1"],
            ["--folds must be an integer of at least 2, not 1"],
        ),
        (
            ["calibrate", "{gold-files}", "--truth", "{gold}:gold"],
            ["needs at least 10 (--min-samples 10, --folds 5)"],
        ),
        (
            ["calibrate", "{gold-files}", "--truth", "{gold}:gold"]
            + ["--min-samples", "2", "--speaker", "speaker", "--folds", "3"],
            ["--speaker holds 2 speakers, fewer than --folds 3", "use --folds 2"],
        ),
        (
            ["calibrate", "{gold-files}", "--truth", "{gold}:gold"]
            + ["--truth-range", "7", "1"],
            ["--truth-range must go from low to high"],
        ),
    ],
)
def test_errors_name_flags(results_files, model_root, capsys, argv, flags):
    values = {**results_files, "model": model_root}
    argv = [arg.format(**values) for arg in argv]
    if argv[0] == "calibrate":
        argv += ["-o", os.path.join(results_files["root"], "calibration.yaml")]
        argv += ["--bootstrap", "0", "--overwrite"]
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("audemo: error: "), err
    for flag in flags:
        assert flag in err, (flag, err)
    assert not PYTHON_ADVICE.search(err), err


def test_summary_overlap_needs_its_column(results_files, tmp_path, capsys):
    frame = pd.read_csv(results_files["turns"]).drop(columns="overlap")
    results = str(tmp_path / "no-overlap.csv")
    frame.to_csv(results, index=False)
    assert main(["summary", results, "--overlap", "exclude"]) == 1
    err = capsys.readouterr().err
    assert "--overlap exclude needs the column overlap" in err
    assert "audemo predict --speakers writes it" in err
    assert not PYTHON_ADVICE.search(err), err


@pytest.mark.parametrize("command", ["report", "calibrate"])
def test_windows_averaged_per_file(results_files, tmp_path, capsys, command):
    gold = results_files["gold"]
    output = str(tmp_path / ("report.md" if command == "report" else "cal.yaml"))
    options = ["--truth", f"{gold}:gold", "--bootstrap", "0", "-o", output]
    if command == "calibrate":
        options += ["--min-samples", "2", "--folds", "2"]
    capsys.readouterr()
    assert main([command, results_files["gold-windows"], *options]) == 0
    windows = capsys.readouterr().err
    assert re.search(r"note: '.*gold-windows.csv' has \d+ rows of 6 files", windows)
    # the same numbers as the mean of the windows per file, written as results
    frame = read_results(results_files["gold-windows"])
    means = frame.groupby(level="file").mean()
    means.index = audformat.filewise_index(means.index)
    results = str(tmp_path / "means.csv")
    means.reset_index().to_csv(results, index=False)
    os.remove(output)
    assert main([command, results, *options]) == 0
    files = capsys.readouterr().err
    assert "note:" not in files
    assert windows.splitlines()[1:] == files.splitlines()


def test_gold_segments_averaged_per_file(results_files, tmp_path, capsys):
    gold = shutil.copytree(results_files["gold"], tmp_path / "gold")
    options = ["--bootstrap", "0", "--truth-range", "1", "7"]
    report = str(tmp_path / "report.md")
    argv = ["report", results_files["gold-files"], "--truth", f"{gold}:segments"]
    capsys.readouterr()
    assert main([*argv, *options, "-o", report]) == 0
    err = capsys.readouterr().err
    assert "note: table 'segments' has 12 rows of 6 files" in err
    # the same as gold labels of the mean per file
    db = audformat.Database.load(gold)
    means = db["segments"].get().groupby(level="file").mean()
    db["means"] = audformat.Table(audformat.filewise_index(means.index))
    db["means"]["arousal"] = audformat.Column(scheme_id="rating")
    db["means"]["arousal"].set(means["arousal"].to_numpy())
    db.save(gold)
    argv = ["report", results_files["gold-files"], "--truth", f"{gold}:means"]
    assert main([*argv, *options, "-o", report, "--overwrite"]) == 0
    assert capsys.readouterr().err == err.split("\n", 1)[1]


@pytest.mark.parametrize("command", ["summary", "plot"])
def test_audio_is_not_a_results_file(speech_files, tmp_path, capsys, command):
    argv = [command, speech_files[0]]
    if command == "plot":
        argv += ["-o", str(tmp_path / "picture.png")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"'{speech_files[0]}' is not a results file" in err
    assert "a results file is a CSV or parquet file as audemo predict writes" in err
    assert "codec" not in err


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize(
    "package, argv",
    [
        (
            "sklearn",
            ["categories", "{db}:emotion:emotion", "--speaker", "speaker"]
            + ["-o", "{tmp}/head", "--model", "{model}", "--cache-root", "{cache}"],
        ),
        (
            "sklearn",
            ["calibrate", "{tmp}/results.csv", "--truth", "{db}:emotion"]
            + ["-o", "{tmp}/cal.yaml"],
        ),
        (
            "matplotlib",
            ["report", "{tmp}/results.csv", "--truth", "{db}:emotion"]
            + ["-o", "{tmp}/report.md"],
        ),
    ],
)
def test_extras_checked_before_any_work(
    categories_database, model_root, tmp_path, package, argv
):
    # the package made unimportable for the command: a stub that raises
    stubs = audeer.mkdir(tmp_path / "stubs" / package)
    with open(os.path.join(stubs, "__init__.py"), "w") as file:
        file.write("raise ImportError('not installed')\n")
    open(tmp_path / "results.csv", "w").write("file,arousal\na-happy.wav,0.5\n")
    cache = str(tmp_path / "results-cache")
    values = {"db": categories_database, "model": model_root, "tmp": tmp_path}
    argv = [arg.format(cache=cache, **values) for arg in argv]
    path = os.pathsep.join([str(tmp_path / "stubs"), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [AUDEMO, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 1
    command = argv[0]
    extra = OPTIONAL_PACKAGES[package]
    assert result.stderr == (
        f"audemo: error: {package} is needed for audemo {command}: "
        f"pip install 'audemo[{extra}]'\n"
    )
    assert not os.path.exists(cache)  # the model ran over nothing


def test_database_safety_once_in_help():
    from audemo.core.cli import build_parser
    from audemo.core.cli.common import DATABASE_SAFETY
    from audemo.core.cli.common import DATABASE_SAFETY_POINTER

    parser = build_parser()
    (commands,) = [
        action
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    helps = {
        name: " ".join(command.format_help().split())
        for name, command in commands.choices.items()
        if name != "audemo"
    }
    helps["audemo"] = " ".join(parser.format_help().split())
    first = " ".join(DATABASE_SAFETY.split())[:60]
    assert [name for name, text in helps.items() if first in text] == ["audemo"]
    pointer = " ".join(DATABASE_SAFETY_POINTER.split())
    readers = {name for name, text in helps.items() if pointer in text}
    assert readers == {"predict", "report", "calibrate", "categories"}


@pytest.mark.slow
@pytest.mark.subprocess
def test_no_progress_bars_in_logs(model_root, speech_files, tmp_path):
    # stderr is a pipe here, as in a log file or CI
    result = run_cli(
        "predict", *speech_files, "--model", model_root, "--win-dur", "1",
        "-o", str(tmp_path / "results.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert result.stderr.startswith("audemo: 3 files")
    assert len(result.stderr.splitlines()) == 1


def test_predict_checks_options_before_reading_inputs(tmp_path, capsys):
    # the library's option table runs before any input is read:
    # a window shorter than the model takes is named in flags,
    # not hidden behind the missing file
    missing = str(tmp_path / "missing.wav")
    assert main(["predict", missing, "--win-dur", "0.01"]) == 1
    err = capsys.readouterr().err
    assert "--win-dur must be at least 0.025 s" in err
    assert "missing.wav" not in err
