import os
import time

from databases import speech_database
import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import audformat
import audiofile

import audemo
from audemo.core.cli import main
from audemo.core.results import write_results


def check_png(path, min_size=(300, 300)):
    assert os.path.getsize(path) > 5000
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1]
    # not an empty canvas
    assert image[..., :3].std() > 0.05


def test_plots(model_root, speech_files, tmp_path):
    import matplotlib.pyplot as plt

    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    frame = interface.process_files(speech_files)
    ax = audemo.plot.timeline(frame, file=speech_files[1])
    assert ax.get_xlabel() == "Time / s"
    assert ax.get_ylabel().startswith("Score")
    assert ax.get_title() == speech_files[1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "arousal",
        "dominance",
        "valence",
    ]
    path = str(tmp_path / "timeline.png")
    ax.figure.savefig(path)
    check_png(path)
    plt.close("all")

    files = audemo.Emotion(model_root).process_files(speech_files)
    ax = audemo.plot.circumplex(files)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Valence", "Arousal")
    assert len(ax.collections[0].get_offsets()) == 3
    path = str(tmp_path / "circumplex.png")
    ax.figure.savefig(path)
    check_png(path)
    plt.close("all")

    with pytest.raises(ValueError, match="choose one"):
        audemo.plot.timeline(frame)
    with pytest.raises(ValueError, match="no file"):
        audemo.plot.timeline(frame, file="other.wav")
    with pytest.raises(ValueError, match="start and end"):
        audemo.plot.timeline(
            audemo.Emotion(model_root).process_index(
                audformat.filewise_index(speech_files), preserve_index=True
            )
        )
    with pytest.raises(ValueError, match="no column"):
        audemo.plot.timeline(frame[["arousal"]], file=speech_files[0])
    with pytest.raises(ValueError, match="valence"):
        audemo.plot.circumplex(files[["arousal"]])
    plt.close("all")


def test_cli_plot(model_root, speech_files, tmp_path, capsys):
    database = speech_database(speech_files, tmp_path / "db")
    results = str(tmp_path / "windows.csv")
    assert (
        main(
            [
                "predict",
                database,
                "--model",
                model_root,
                "--win-dur",
                "1",
                "-o",
                results,
            ]
        )
        == 0
    )
    picture = str(tmp_path / "timeline.png")
    file = "audio/happy.wav"
    code = main(["plot", results, "--kind", "timeline", "--file", file, "-o", picture])
    assert code == 0
    check_png(picture)
    picture = str(tmp_path / "circumplex.png")
    assert main(["plot", results, "-o", picture]) == 0
    check_png(picture)
    assert main(["plot", str(tmp_path / "nothing.csv"), "-o", picture]) == 1
    assert "exists: pass --overwrite" in capsys.readouterr().err
    args = ["plot", str(tmp_path / "nothing.csv"), "-o", picture, "--overwrite"]
    assert main(args) == 1
    assert "does not exist" in capsys.readouterr().err
    folder = str(tmp_path / "picture.png")
    os.mkdir(folder)
    assert main(["plot", results, "-o", folder, "--overwrite"]) == 1
    assert "is a folder, not a file" in capsys.readouterr().err


def test_confusion_class_without_rows_and_wrong_shape():
    import matplotlib.pyplot as plt

    # a class without true rows has no recall: its row stays blank, not 0
    matrix = pd.DataFrame(
        [[3, 1], [0, 0]], index=["happy", "sad"], columns=["happy", "sad"]
    )
    ax = audemo.plot.confusion(matrix)
    assert [text.get_text() for text in ax.texts] == ["0.75", "0.25"]
    assert ax.get_title() == "UAR 0.750"
    with pytest.raises(ValueError, match="same classes"):
        audemo.plot.confusion(matrix[["sad", "happy"]])
    plt.close("all")


def test_timeline_of_a_signal(model_root, speech_files):
    import matplotlib.pyplot as plt

    # results of a signal have start and end but no file: one timeline
    signal, sampling_rate = audiofile.read(speech_files[0])
    interface = audemo.Emotion(model_root, win_dur=1.0)
    frame = interface.process_signal(signal, sampling_rate)
    assert "file" not in frame.index.names
    ax = audemo.plot.timeline(frame)
    assert ax.get_title() == ""
    assert len(ax.collections) == 3  # one set of bars per dimension
    plt.close("all")


def test_timeline_per_file_results_and_speakers(model_root, speech_files, tmp_path):
    import matplotlib.pyplot as plt

    # a score per file has no course over time: say so, even for one file
    files = audemo.Emotion(model_root).process_files(speech_files)
    for file in (None, speech_files[0]):
        with pytest.raises(ValueError, match=r"one row per file.*win_dur=1\.0"):
            audemo.plot.timeline(files, file=file)
    # turns of two speakers: one line per speaker, none joins their turns
    index = audformat.segmented_index(
        [speech_files[0]] * 4, [0.0, 0.6, 1.2, 1.8], [0.6, 1.2, 1.8, 2.4]
    )
    turns = pd.Series(["A", "B", "A", "B"], index=index)
    frame = audemo.process_turns(audemo.Emotion(model_root), turns)
    ax = audemo.plot.timeline(frame)
    lines = [line for line in ax.lines if len(line.get_xdata())]
    assert [list(line.get_xdata()) for line in lines] == [
        pytest.approx([0.3, 1.5]),
        pytest.approx([0.9, 2.1]),
    ] * 3
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["arousal", "dominance", "valence", "A", "B"]
    path = str(tmp_path / "turns.png")
    ax.figure.savefig(path)
    check_png(path)
    plt.close("all")


def hour_long_call(turns=1200, seed=1):
    r"""Synthetic conversation frame: 1 hour, two speakers, 1 s windows."""
    rng = np.random.default_rng(seed)
    files, starts, ends, speakers, ids = [], [], [], [], []
    time = 0.0
    for turn in range(turns):
        duration = rng.uniform(1.0, 5.0)
        for start in np.arange(time, time + duration - 1.0 + 1e-9, 0.5):
            files.append("call.wav")
            starts.append(start)
            ends.append(start + 1.0)
            speakers.append("agent" if turn % 2 == 0 else "customer")
            ids.append(turn)
        time += duration + rng.uniform(-0.5, 0.5)
        if time > 3600:
            break
    n = len(files)
    frame = pd.DataFrame(
        {
            "speaker": pd.array(speakers, dtype="string"),
            "turn": ids,
            "arousal": 0.5 + 0.2 * np.sin(np.arange(n) / 300) + rng.normal(0, 0.03, n),
            "dominance": 0.5 + rng.normal(0, 0.05, n),
            "valence": 0.4 + 0.1 * np.cos(np.arange(n) / 500) + rng.normal(0, 0.03, n),
        },
        index=audformat.segmented_index(files, starts, ends),
    )
    frame["overlap"] = audemo.overlap_mask(frame)
    return frame


@pytest.mark.slow
def test_conversation_hour(tmp_path):
    import matplotlib.pyplot as plt

    frame = hour_long_call()
    assert frame.index.get_level_values("end").max() > pd.Timedelta(minutes=55)
    begin = time.perf_counter()
    figure = audemo.plot.conversation(frame)
    path = str(tmp_path / "conversation.png")
    figure.savefig(path, dpi=100)
    elapsed = time.perf_counter() - begin
    assert elapsed < 20, elapsed
    check_png(path, min_size=(400, 1000))
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == ["agent", "customer"]
    assert axes[-1].get_xlabel() == "Time / min"
    assert axes[0].get_xlim()[1] == pytest.approx(
        frame.index.get_level_values("end").max().total_seconds() / 60
    )
    # one band collection and one line per dimension per lane,
    # broken into turns by NaN
    for ax in axes:
        assert len(ax.collections) == 1
        assert [line.get_label() for line in ax.lines] == [
            "arousal",
            "dominance",
            "valence",
        ]
        x = ax.lines[0].get_xdata()
        assert np.isnan(x).sum() >= 500
    legend = [text.get_text() for text in axes[0].get_legend().get_texts()]
    assert legend == ["arousal", "dominance", "valence", "speaking (shaded)"]
    # the shading is the time the speaker speaks, once: overlapping
    # windows do not stack into darker bands
    for ax, speaker in zip(axes, ["agent", "customer"]):
        rows = frame[frame["speaker"] == speaker]
        spans = ax.collections[0].get_paths()
        starts = np.array([path.vertices[:, 0].min() for path in spans])
        ends = np.array([path.vertices[:, 0].max() for path in spans])
        assert (starts[1:] > ends[:-1]).all()  # no two bands overlap
        covered = (ends - starts).sum() * 60
        turns = rows.groupby("turn").apply(
            lambda turn: (
                turn.index.get_level_values("end").max()
                - turn.index.get_level_values("start").min()
            ).total_seconds()
        )
        assert covered <= turns.sum() + 1e-6
    # lanes are drawn: each lane's band colour is in the picture
    image = matplotlib.image.imread(path)[..., :3]
    assert (image.std(axis=(0, 1)) > 0.05).all()
    plt.close("all")


def test_conversation_plot(tmp_path, model_root, speech_files):
    import matplotlib.pyplot as plt

    # a short call in seconds, without turn ids: pauses break the lines
    index = audformat.segmented_index(
        [speech_files[0]] * 4, [0.0, 1.0, 1.5, 2.5], [1.0, 2.0, 2.5, 3.0]
    )
    turns = pd.Series(["A", "A", "B", "A"], index=index)
    frame = audemo.process_turns(audemo.Emotion(model_root), turns)
    figure = audemo.plot.conversation(frame)
    assert figure.axes[-1].get_xlabel() == "Time / s"
    assert figure.axes[0].get_title(loc="right") == speech_files[0]
    # each row is a turn: a mark from its start to its end at its score
    x = figure.axes[0].lines[0].get_xdata()
    y = figure.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(x, [0, 1, np.nan, 1, 2, np.nan, 2.5, 3, np.nan])
    arousal = frame.loc[frame["speaker"] == "A", "arousal"].to_numpy()
    np.testing.assert_allclose(y[0::3], arousal)
    np.testing.assert_allclose(y[1::3], arousal)
    # A speaks from 0 to 2 and from 2.5 to 3: two shaded spans
    spans = figure.axes[0].collections[0].get_paths()
    assert [
        (path.vertices[:, 0].min(), path.vertices[:, 0].max()) for path in spans
    ] == [(0.0, 2.0), (2.5, 3.0)]
    path = str(tmp_path / "short.png")
    figure.savefig(path)
    check_png(path)
    plt.close("all")
    with pytest.raises(ValueError, match="'speaker' column"):
        audemo.plot.conversation(frame.drop(columns="speaker"))
    with pytest.raises(ValueError, match="no column"):
        audemo.plot.conversation(frame, dimensions=["happiness"])
    two = pd.concat([frame, hour_long_call(turns=3)])
    with pytest.raises(ValueError, match="choose one"):
        audemo.plot.conversation(two)
    figure = audemo.plot.conversation(two, file="call.wav")
    assert [ax.get_ylabel() for ax in figure.axes] == ["agent", "customer"]
    # all scores missing
    empty = frame.copy()
    empty[["arousal", "dominance", "valence"]] = np.nan
    figure = audemo.plot.conversation(empty)
    assert figure.axes[0].get_ylim() == (0.0, 1.05)
    plt.close("all")


def test_circumplex_speakers(tmp_path):
    import matplotlib.pyplot as plt

    frame = hour_long_call(turns=20)
    ax = audemo.plot.circumplex(frame)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "agent",
        "customer",
    ]
    assert len(ax.collections) == 2
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(frame)
    colors = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colors) == 2
    # no dominance colour bar
    assert len(ax.figure.axes) == 1
    path = str(tmp_path / "speakers.png")
    ax.figure.savefig(path, bbox_inches="tight")
    check_png(path)
    plt.close("all")


def test_cli_plot_labels_not_mathtext(tmp_path, model_root, speech_files, capsys):
    # speakers of a results file are drawn as text: two $ make mathtext,
    # and "$\frac{1}{$" aborted the plot
    index = audformat.segmented_index([speech_files[0]] * 2, [0.0, 1.0], [1.0, 2.0])
    turns = pd.Series([r"$\frac{1}{$", "$" + "{" * 200 + "$"], index=index)
    frame = audemo.process_turns(audemo.Emotion(model_root), turns)
    results = str(tmp_path / "call.csv")
    write_results(frame, results)
    picture = str(tmp_path / "call.png")
    assert main(["plot", results, "--kind", "conversation", "-o", picture]) == 0
    check_png(picture)
