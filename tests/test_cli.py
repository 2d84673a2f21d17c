import io
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import audeer
import audformat

import audemo
from audemo.core.cli import main


def run_cli(*args, cwd=None):
    r"""Run the installed ``audemo`` command in a subprocess."""
    return subprocess.run(
        ["audemo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def read_csv(text):
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns[:3]) == ["file", "start", "end"]
    return frame.drop(columns=["start", "end"]).set_index("file")


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
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("audemo: 3 files, 0.00 h of audio, 3 rows, 0 failed,")
    )


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


def test_predict_usage_errors(capsys):
    with pytest.raises(SystemExit) as error:
        main(["predict", "a.wav", "--outputs", "scores"])
    assert error.value.code == 2
    assert "not one of logits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


def test_download_and_info(server, archive, cache_root):
    server.files["/cli.zip"] = archive
    url = server.url("/cli.zip")
    result = run_cli("download", url, "--cache-root", cache_root)
    assert result.returncode == 0, result.stderr
    folder = result.stdout.strip()
    assert folder.startswith(os.path.join(cache_root, "models"))
    result = run_cli("info", url, "--cache-root", cache_root)
    assert result.returncode == 0, result.stderr
    assert f"url: {url}" in result.stdout
    assert f"folder: {folder}" in result.stdout
    fingerprint = audemo.Emotion(url, cache_root=cache_root).fingerprint
    assert f"fingerprint: {fingerprint}" in result.stdout
    assert "labels: [arousal, dominance, valence]" in result.stdout
    assert server.requests["/cli.zip"] == 1


def test_info_registered_model_offline(cache_root, monkeypatch, capsys):
    monkeypatch.setenv("AUDEMO_OFFLINE", "1")
    assert main(["info", "--cache-root", cache_root]) == 1
    err = capsys.readouterr().err
    assert err.startswith("audemo: error: Model 'w2v2-L-robust-12' is not in the cache")
    assert len(err.strip().splitlines()) == 1


def test_info_registered_model(server, archive, cache_root, monkeypatch, capsys):
    from audemo.core import model as model_module

    server.files["/registered.zip"] = archive
    registered = model_module.RegisteredModel(
        url=server.url("/registered.zip"),
        sha256=None,
        license="CC BY-NC-SA 4.0",
        description="test",
    )
    monkeypatch.setitem(model_module.MODELS, "w2v2-L-robust-12", registered)
    assert main(["info", "--cache-root", cache_root]) == 0
    out = capsys.readouterr().out
    assert "model: w2v2-L-robust-12" in out
    assert "license: CC BY-NC-SA 4.0" in out


def test_module_entry_point(model_root):
    result = subprocess.run(
        [sys.executable, "-m", "audemo", "info", model_root],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "fingerprint:" in result.stdout


def test_broken_pipe(model_root):
    result = subprocess.run(
        f"audemo info {model_root} | head -n 1",
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
    starts = pd.to_timedelta(frame["start"]).dt.total_seconds()
    assert list(starts[:3]) == [0.0, 0.5, 1.0]

    assert main(["predict", speech_files[0], "--model", model_root, "--vad"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(frame) >= 1
    assert pd.to_timedelta(frame["start"][0]).total_seconds() > 0

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

    from audemo.core.cli import read_results

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
    assert main(["predict", root, "--model", model_root, "-o", results]) == 0
    assert main(argv + ["--bootstrap", "0"]) == 0
    assert f"n={len(names)}" in capsys.readouterr().err
