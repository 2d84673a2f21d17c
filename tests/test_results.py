import numpy as np
import pandas as pd
import pytest

import audformat

from audemo.core.cli import main
from audemo.core.results import csv_quote
from audemo.core.results import csv_safe
from audemo.core.results import csv_unquote
from audemo.core.results import read_results
from audemo.core.results import write_results


TEXTS = ["=1+2.wav", "-loud.wav", "@sum.wav", "+plus.wav", "\tab.wav", "\rcr.wav"]
TEXTS += ["'=quoted.wav", "''=twice.wav", "'plain.wav", "normal.wav", "", "'"]


@pytest.mark.parametrize("text", TEXTS)
def test_csv_quote_round_trip(text):
    quoted = csv_quote(text)
    assert not quoted.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_unquote(quoted) == text


def test_read_results_formats(model_root, speech_files, tmp_path):
    parquet = str(tmp_path / "results.parquet")
    assert main(["predict", *speech_files, "--model", model_root, "-o", parquet]) == 0
    frame = read_results(parquet)
    assert frame.index.names == ["file", "start", "end"]
    filewise = tmp_path / "filewise.csv"
    filewise.write_text("file,arousal,valence\na.wav,0.5,0.4\n")
    assert read_results(str(filewise)).index.name == "file"
    broken = tmp_path / "broken.csv"
    broken.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="no 'file' column"):
        read_results(str(broken))


@pytest.mark.parametrize("time_format", ["seconds", "timedelta"])
@pytest.mark.parametrize("extension", ["csv", "parquet"])
def test_write_and_read_results(tmp_path, time_format, extension):
    rng = np.random.default_rng(0)
    ends = pd.to_timedelta(rng.integers(1, 10**11, 100), unit="ns")
    index = audformat.segmented_index(["=a.wav"] * 100, [0] * 100, ends)
    frame = pd.DataFrame({"-score": rng.normal(size=100)}, index=index)
    path = str(tmp_path / f"results.{extension}")
    write_results(frame, path, file_format=extension, time_format=time_format)
    # exact to the nanosecond; the file names' string dtype may differ
    pd.testing.assert_frame_equal(read_results(path), frame, check_index_type=False)
    assert list(csv_safe(frame).columns) == ["file", "start", "end", "'-score"]


def test_calibration_marker_round_trip(tmp_path):
    from audemo.core.results import calibration_marker
    from audemo.core.results import describe_calibration

    frame = pd.DataFrame(
        {"arousal": [0.6, 0.4], "valence": [3.5, 2.0]},
        index=audformat.filewise_index(["a.wav", "b.wav"]),
    )
    marker = {
        "dimensions": ["valence"],
        "truth_range": None,
        "method": "isotonic",
        "samples": 12,
        "sha256": "ab" * 32,
    }
    frame.attrs["calibration"] = marker
    for extension in ("csv", "parquet"):
        path = str(tmp_path / f"results.{extension}")
        write_results(frame, path, file_format=extension)
        result = read_results(path)
        assert result.attrs["calibration"] == marker
        assert list(result.columns) == ["arousal", "valence"]
        np.testing.assert_allclose(result.to_numpy(), frame.to_numpy())
    assert "range not recorded" in describe_calibration(calibration_marker(frame))
    # a column 'calibration' that audemo did not write is refused
    rows = pd.read_csv(str(tmp_path / "results.csv"))
    for values, reason in (
        (["{}", "{}"], "KeyError|broken"),
        (["not json", "not json"], "Expecting value"),
        (['{"a": 1}', '{"b": 2}'], "2 different values"),
    ):
        rows["calibration"] = values
        path = str(tmp_path / "edited.csv")
        rows.to_csv(path, index=False)
        with pytest.raises(ValueError, match=f"column 'calibration'.*({reason})"):
            read_results(path)
    frame.attrs["calibration"] = {"dimensions": ["valence"]}
    with pytest.raises(ValueError, match="calibration marker of the results is broken"):
        calibration_marker(frame)
