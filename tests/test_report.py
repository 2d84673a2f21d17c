import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from sandbox import run_limited

import audeer
import audformat

import audemo
from audemo.core.cli import main


@pytest.mark.slow
def test_report_escapes_labels(tmp_path):
    # labels and file names from a database are text, never markup
    attacks = [
        "<img src=x onerror=alert(1)>",
        "[click](https://evil.example)",
        "a|b\nc",
        "&lt;b&gt;",
    ]
    files = [f"{attacks[n % 4]}-{n}.wav" for n in range(24)]
    index = audformat.filewise_index(files)
    rng = np.random.default_rng(0)
    truth = pd.DataFrame({"arousal": rng.uniform(0, 1, 24)}, index=index)
    prediction = truth + rng.normal(0, 0.1, (24, 1))
    groups = pd.Series([attacks[n % 4] for n in range(24)], index=index, name="<u>g")
    evaluation = audemo.evaluate(
        prediction,
        truth,
        groups=groups,
        speakers=groups.rename("speaker"),
        min_samples=2,
        num_bootstrap=10,
    )
    details = {"Results": "<script>alert(1)</script>.csv"}
    markdown = open(
        audemo.write_report(str(tmp_path / "r.md"), evaluation, details=details)
    ).read()
    page = open(
        audemo.write_report(str(tmp_path / "r.html"), evaluation, details=details)
    ).read()
    for text in (markdown, page):
        assert "<img src=x" not in text and "<script" not in text
        assert "<u>" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in text
        assert "&amp;lt;b&amp;gt;" in text  # shown as typed, not as <b>
    assert "[click](" not in markdown  # no link
    assert "\\[click\\](https://evil.example)" in markdown
    # each table row keeps its cells: the | and line break of a label are escaped
    for table in markdown.split("\n\n"):
        rows = [line for line in table.splitlines() if line.startswith("|")]
        cells = {line.replace("\\|", "").count("|") for line in rows}
        assert len(cells) <= 1, table
    assert "a\\|b c" in markdown


@pytest.fixture
def gold(speech_files, tmp_path):
    r"""Database of six files, gold labels on a 1..7 scale, speakers and sex."""
    root = audeer.mkdir(tmp_path / "gold-db")
    files = []
    for number in range(6):
        files.append(f"{number}.wav")
        shutil.copy(speech_files[number % 3], os.path.join(root, files[-1]))
    index = audformat.filewise_index(files)
    db = audformat.Database("gold", source="espeak-ng", usage="unrestricted")
    db.schemes["rating"] = audformat.Scheme("float", minimum=1, maximum=7)
    db["gold"] = audformat.Table(index)
    for column in ("arousal", "valence"):
        db["gold"][column] = audformat.Column(scheme_id="rating")
        db["gold"][column].set(np.linspace(1, 7, 6))
    db["files"] = audformat.Table(index)
    for column, values in [("speaker", ["a", "b"] * 3), ("sex", ["f"] * 3 + ["m"] * 3)]:
        db["files"][column] = audformat.Column()
        db["files"][column].set(values)
    db["segments"] = audformat.Table(
        audformat.segmented_index(files, [0] * 6, [0.5] * 6)
    )
    db["segments"]["arousal"] = audformat.Column()
    db["segments"]["arousal"].set(np.linspace(0, 1, 6))
    db.save(root)
    return root


@pytest.mark.slow
def test_report_cli_groups_speakers_robustness(gold, model_root, tmp_path, capsys):
    results = str(tmp_path / "results.csv")
    assert main(["predict", gold, "--model", model_root, "-o", results]) == 0
    capsys.readouterr()
    report = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{gold}:gold", "-o", report]
    argv += ["--group", "sex", "--speaker", "speaker", "--min-samples", "2"]
    argv += ["--bootstrap", "10", "--robustness", "--model", model_root]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip() == report
    assert re.search(r"arousal: CCC \S+ \[\S+, \S+\], n=6\n", err)
    text = open(report).read()
    assert "rescaled from arousal 1..7, valence 1..7 to 0..1" in text  # schemes
    assert "## Robustness" in text
    assert "- **Truth:** database gold, table gold" in text


@pytest.mark.slow
def test_report_cli_segmented_truth(gold, model_root, tmp_path, capsys):
    # robustness compares with filewise gold labels only: none for segments
    results = str(tmp_path / "results.csv")
    rows = [f"{n}.wav,0,0.5,{n / 6}" for n in range(6)]
    open(results, "w").write("\n".join(["file,start,end,arousal", *rows]) + "\n")
    report = str(tmp_path / "report.html")
    argv = ["report", results, "--truth", f"{gold}:segments", "-o", report]
    argv += ["--bootstrap", "0", "--robustness", "--model", model_root]
    assert main(argv + ["--truth-range", "0", "1"]) == 0
    assert "arousal: CCC" in capsys.readouterr().err
    assert "Robustness" in open(report).read()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--truth", "no-table"], "--truth must be DB_FOLDER:TABLE, not 'no-table'"),
        (["--truth", "{gold}:files"], "Table 'files' has no column ['arousal'"),
        (["--truth", "{gold}:gold", "--speaker", "age"], "has a column 'age'"),
        (["--truth", "{gold}:gold", "-o", "r.pdf"], "must end in .md or .html"),
    ],
)
def test_report_cli_errors(gold, tmp_path, capsys, argv, message):
    results = str(tmp_path / "results.csv")
    open(results, "w").write("file,arousal\n0.wav,0.5\n")
    argv = [arg.format(gold=gold) for arg in argv]
    assert main(["report", results, *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("audemo: error: ") and message in err


def test_report_refuses_other_formats(tmp_path):
    index = audformat.filewise_index([f"{n}.wav" for n in range(4)])
    truth = pd.DataFrame({"arousal": np.linspace(0, 1, 4)}, index=index)
    evaluation = audemo.evaluate(truth + 0.1, truth, num_bootstrap=0)
    with pytest.raises(ValueError, match="must end in .md or .html"):
        audemo.write_report(str(tmp_path / "report.pdf"), evaluation)
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.slow
def test_report_calibrated(tmp_path):
    index = audformat.filewise_index([f"{n}.wav" for n in range(30)])
    rng = np.random.default_rng(1)
    truth = pd.DataFrame(
        {"arousal": rng.integers(1, 6, 30), "valence": rng.integers(1, 6, 30)},
        index=index,
    ).astype(float)
    prediction = (truth - 1) / 4 * 0.3 + 0.35 + rng.normal(0, 0.05, (30, 2))
    evaluation = audemo.evaluate(
        prediction, truth, truth_range=(1, 5), num_bootstrap=20
    )
    calibration = audemo.Calibration.fit(
        prediction, truth, truth_range=(1, 5), num_bootstrap=0
    )
    # only arousal calibrated: the raw valence is not shown as calibrated
    calibrated = audemo.evaluate(
        calibration(prediction), truth, dimensions=["arousal"], num_bootstrap=20
    )
    markdown = open(
        audemo.write_report(str(tmp_path / "r.md"), evaluation, calibrated=calibrated)
    ).read()
    page = open(
        audemo.write_report(str(tmp_path / "r.html"), evaluation, calibrated=calibrated)
    ).read()
    section = markdown.split("## Calibrated")[1].split("##")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[0] == (
        "| dimension | CCC raw | CCC calibrated | Pearson raw | Pearson calibrated "
        "| MAE raw | MAE calibrated | n |"
    )
    assert [row.split(" | ")[0] for row in rows[1:]] == ["| arousal"]
    cells = rows[1].split(" | ")
    raw = evaluation.overall.loc["arousal"]
    mapped = calibrated.overall.loc["arousal"]
    assert cells[1].startswith(f"{raw['ccc']:.3f} \\[")
    assert cells[2].startswith(f"{mapped['ccc']:.3f} \\[")
    # the affine map keeps Pearson's r, and fits the scale
    assert cells[3].split(" ")[0] == cells[4].split(" ")[0]
    assert mapped["ccc"] > raw["ccc"]
    assert "<h2>Calibrated</h2>" in page and "CCC calibrated</th>" in page
    # without calibration: no such section
    plain = open(audemo.write_report(str(tmp_path / "p.md"), evaluation)).read()
    assert "Calibrated" not in plain


@pytest.mark.slow
@pytest.mark.subprocess
def test_report_labels_not_mathtext(gold, model_root, tmp_path, capsys):
    # matplotlib draws text between two $ as mathtext: a label from the
    # database aborted the report, deep braces hit the recursion limit
    db = audformat.Database.load(gold)
    deep = "$" + "{" * 3000 + "}" * 3000 + "$"
    db["files"]["speaker"].set([r"$\frac{1}{$", deep] * 3)
    db["files"]["sex"].set([r"$\frac{1}{$"] * 3 + ["$x$"] * 3)
    db.save(gold)
    results = str(tmp_path / "results.csv")
    assert main(["predict", gold, "--model", model_root, "-o", results]) == 0
    capsys.readouterr()
    report = str(tmp_path / "report.md")
    argv = ["report", results, "--truth", f"{gold}:gold", "-o", report]
    argv += ["--group", "sex", "--speaker", "speaker", "--min-samples", "2"]
    argv += ["--bootstrap", "10"]
    process = run_limited(
        f"""
        import sys
        from audemo.core.cli import main
        sys.exit(main({argv!r}))
        """,
        cwd=str(tmp_path),
        memory_mb=3072,
        seconds=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    figures = os.listdir(str(tmp_path / "report-figures"))
    assert len(figures) >= 3
    assert r"$\\frac{1}{$" in open(report).read()  # the label, as typed
