import os
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import soundfile

import audformat
import audiofile
import audresample

import audemo
from audemo.core import robustness as robustness_module
from audemo.core.robustness import PERTURBATIONS
from audemo.core.robustness import perturb
from audemo.core.robustness import robustness


DIMENSIONS = ["arousal", "dominance", "valence"]


def snr_db(clean: np.ndarray, perturbed: np.ndarray) -> float:
    clean = clean.astype(np.float64)
    noise = perturbed.astype(np.float64) - clean
    return 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))


def band_energy(signal: np.ndarray, sampling_rate: int, low: float, high: float):
    spectrum = np.abs(np.fft.rfft(signal.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(signal.size, 1 / sampling_rate)
    return spectrum[(frequencies >= low) & (frequencies < high)].sum()


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    covariance = np.mean((x - x.mean()) * (y - y.mean()))
    return 2 * covariance / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


@pytest.fixture(scope="module")
def speech(speech_files):
    r"""Three espeak-ng sentences at 16 kHz as arrays."""
    return [audiofile.read(file)[0] for file in speech_files]


@pytest.fixture(scope="module")
def files(speech_files, tmp_path_factory):
    r"""The sentences, one of them as a 48 kHz stereo file."""
    signal, sampling_rate = audiofile.read(speech_files[2])
    stereo = audresample.resample(
        np.stack([signal, 0.5 * signal]), sampling_rate, 48000
    )
    path = str(tmp_path_factory.mktemp("stereo") / "stereo.wav")
    audiofile.write(path, stereo, 48000)
    return speech_files[:2] + [path]


def test_names():
    assert len(PERTURBATIONS) == 11
    assert PERTURBATIONS[:3] == (
        "white-noise-20db",
        "white-noise-10db",
        "white-noise-0db",
    )
    assert {"babble-0db", "gain-plus-6db", "lowpass-3400hz", "mp3-32kbps"} <= set(
        PERTURBATIONS
    )
    with pytest.raises(ValueError, match="Unknown perturbation 'reverb'.*mp3-32kbps"):
        perturb(np.zeros(1000), 16000, "reverb")


@pytest.mark.parametrize("snr", [20, 10, 0])
def test_white_noise_snr(speech, snr):
    signal = speech[0]
    noisy = perturb(signal, 16000, f"white-noise-{snr}db", seed=3)
    assert noisy.dtype == np.float32 and noisy.shape == signal.shape
    assert abs(snr_db(signal, noisy) - snr) < 0.1
    # white: the same power in the lower and the upper half of the band
    noise = noisy - signal
    ratio = band_energy(noise, 16000, 0, 4000) / band_energy(noise, 16000, 4000, 8000)
    assert 0.9 < ratio < 1.1


def test_white_noise_above_16khz(speech):
    # at 48 kHz the noise is limited to the 8 kHz the model hears
    signal = audresample.resample(speech[0], 16000, 48000)[0]
    noisy = perturb(signal, 48000, "white-noise-10db")
    assert abs(snr_db(signal, noisy) - 10) < 0.1
    noise = noisy - signal
    above = band_energy(noise, 48000, 8500, 24000)
    assert 10 * np.log10(above / band_energy(noise, 48000, 0, 8000)) < -40


@pytest.mark.parametrize("snr", [20, 10, 0])
def test_babble_snr(speech, snr):
    noisy = perturb(speech[0], 16000, f"babble-{snr}db", babble=speech[1:])
    assert abs(snr_db(speech[0], noisy) - snr) < 0.1


def test_babble_is_made_of_the_talkers():
    time = np.arange(16000) / 16000
    signal = 0.3 * np.sin(2 * np.pi * 200 * time)
    talkers = [np.sin(2 * np.pi * 440 * time), np.sin(2 * np.pi * 1000 * time)]
    noise = perturb(signal, 16000, "babble-0db", babble=talkers) - signal
    spectrum = np.abs(np.fft.rfft(noise))
    frequencies = np.fft.rfftfreq(noise.size, 1 / 16000)
    peaks = sorted(frequencies[np.argsort(spectrum)[-2:]])
    assert peaks == [440, 1000]
    # nothing of the signal itself: no energy at 200 Hz
    assert spectrum[frequencies == 200][0] < 1e-3 * spectrum.max()


def test_babble_needs_speech(speech):
    with pytest.raises(ValueError, match="babble=\\[...\\]"):
        perturb(speech[0], 16000, "babble-10db")
    with pytest.raises(ValueError, match="empty or silent"):
        perturb(speech[0], 16000, "babble-10db", babble=[np.zeros(100), []])


def test_babble_pool_leaves_out_the_file(model_root, files):
    interface = audemo.Emotion(model_root)
    pool = robustness_module._babble_pool(interface, files, None, 0)
    assert [file for file, _ in pool] == files
    assert all(signal.ndim == 1 for _, signal in pool)
    sources = robustness_module._babble_sources(files[0], pool, 16000, {})
    assert len(sources) == 2
    own = pool[0][1]
    assert not any(
        source.size == own.size and np.array_equal(source, own) for source in sources
    )
    # at the sampling rate of the file it is added to
    sources = robustness_module._babble_sources(files[0], pool, 48000, {})
    assert sources[0].size == pytest.approx(3 * pool[1][1].size, abs=2)


def test_gain(speech):
    signal = speech[0]
    quiet = perturb(signal, 16000, "gain-minus-20db")
    np.testing.assert_allclose(quiet, 0.1 * signal, rtol=1e-6, atol=1e-9)
    loud_input = 0.9 * signal / np.abs(signal).max()
    loud = perturb(loud_input, 16000, "gain-plus-6db")
    factor = 10 ** (6 / 20)
    inside = np.abs(loud_input) * factor < 1
    np.testing.assert_allclose(loud[inside], factor * loud_input[inside], rtol=1e-6)
    assert (~inside).sum() > 0
    np.testing.assert_array_equal(np.abs(loud[~inside]), 1.0)
    assert np.abs(loud).max() == 1.0


def test_lowpass_spectrum(speech):
    signal = np.concatenate(speech)
    filtered = perturb(signal, 16000, "lowpass-3400hz")
    assert filtered.shape == signal.shape
    above = band_energy(filtered, 16000, 3600, 8000) / band_energy(
        signal, 16000, 3600, 8000
    )
    below = band_energy(filtered, 16000, 0, 3000) / band_energy(signal, 16000, 0, 3000)
    assert 10 * np.log10(above) < -30
    assert abs(10 * np.log10(below)) < 0.2
    # at 44.1 kHz as well
    signal = audresample.resample(signal, 16000, 44100)[0]
    filtered = perturb(signal, 44100, "lowpass-3400hz")
    above = band_energy(filtered, 44100, 3600, 8000) / band_energy(
        signal, 44100, 3600, 8000
    )
    assert 10 * np.log10(above) < -30
    # nothing above 3.4 kHz at 6800 Hz or less
    narrow = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    np.testing.assert_array_equal(perturb(narrow, 6800, "lowpass-3400hz"), narrow)


def test_quantize(speech):
    signal = speech[0]
    quantized = perturb(signal, 16000, "quantize-8bit")
    assert len(np.unique(quantized)) <= 256
    np.testing.assert_array_equal(quantized * 128, np.round(quantized * 128))
    assert np.abs(quantized - signal).max() <= 1 / 256 + 1e-7
    loud = perturb(np.array([-2.0, 0.999, 2.0]), 16000, "quantize-8bit")
    np.testing.assert_array_equal(loud, [-1.0, 127 / 128, 127 / 128])


def test_mp3_round_trip(speech):
    signal = speech[0]
    decoded = perturb(signal, 16000, "mp3-32kbps")
    assert decoded.shape == signal.shape
    assert np.abs(decoded - signal).max() > 1e-2
    assert np.corrcoef(signal, decoded)[0, 1] > 0.95
    # aligned: the codec's delay is removed
    correlation = np.correlate(decoded, signal, "full")
    assert correlation.argmax() - (signal.size - 1) == 0
    # a real encoder at 32 kbit/s
    size = len(robustness_module._encode_mp3(signal))
    assert size * 8 / (signal.size / 16000) == pytest.approx(32000, rel=0.05)
    # other sampling rates and channels
    stereo = audresample.resample(np.stack([signal, signal]), 16000, 44100)
    decoded = perturb(stereo, 44100, "mp3-32kbps")
    assert decoded.shape == stereo.shape
    assert np.corrcoef(stereo[1], decoded[1])[0, 1] > 0.9
    assert perturb(np.zeros(0), 16000, "mp3-32kbps").shape == (0,)
    short = perturb(signal[:500], 16000, "mp3-32kbps")
    assert short.shape == (500,)


def test_mp3_unavailable(speech, monkeypatch):
    monkeypatch.setattr(soundfile, "available_formats", lambda: {"WAV": "WAV"})
    with pytest.raises(RuntimeError, match="cannot write MP3"):
        perturb(speech[0], 16000, "mp3-32kbps")


def test_seed(speech):
    for name in ("white-noise-10db", "babble-10db"):
        first = perturb(speech[0], 16000, name, seed=1, babble=speech[1:])
        again = perturb(speech[0], 16000, name, seed=1, babble=speech[1:])
        other = perturb(speech[0], 16000, name, seed=2, babble=speech[1:])
        np.testing.assert_array_equal(first, again)
        assert not np.allclose(first, other)


def test_silent_and_shapes():
    silent = np.zeros((2, 800), dtype=np.float32)
    for name in ("white-noise-0db", "babble-0db", "gain-plus-6db", "quantize-8bit"):
        y = perturb(silent, 16000, name, babble=[np.ones(10)])
        np.testing.assert_array_equal(y, silent)
    with pytest.raises(ValueError, match="shape"):
        perturb(np.zeros((1, 2, 100)), 16000, "gain-plus-6db")


@pytest.mark.slow
def test_robustness(model_root, files):
    interface = audemo.Emotion(model_root)
    truth = pd.DataFrame(
        {"arousal": [0.8, 0.2, 0.5], "valence": [0.3, 0.4, 0.9]},
        index=audformat.filewise_index(files),
    )
    predictions, summary = robustness(interface, files, truth=truth)
    runs = ["clean", *PERTURBATIONS]
    assert list(predictions.index.names) == ["perturbation", "file", "start", "end"]
    assert list(predictions.index.unique("perturbation")) == runs
    assert list(summary.index) == runs
    assert summary.index.name == "perturbation"
    assert list(summary.columns.unique("metric")) == ["shift", "ccc", "ccc_change"]
    assert list(summary["shift"].columns) == DIMENSIONS
    assert list(summary["ccc"].columns) == ["arousal", "valence"]

    clean = predictions.loc["clean"]
    pd.testing.assert_frame_equal(clean, interface.process_files(files))
    assert (summary.loc["clean", "shift"] == 0).all()
    assert (summary.loc["clean", "ccc_change"] == 0).all()
    for name in PERTURBATIONS:
        perturbed = predictions.loc[name]
        assert perturbed.index.equals(clean.index)
        for dimension in DIMENSIONS:
            shift = np.abs(
                perturbed[dimension].to_numpy(np.float64)
                - clean[dimension].to_numpy(np.float64)
            ).mean()
            assert summary.loc[name, ("shift", dimension)] == pytest.approx(shift)
        for dimension in ["arousal", "valence"]:
            expected = ccc(
                truth[dimension].to_numpy(),
                perturbed[dimension].to_numpy(np.float64),
            )
            assert summary.loc[name, ("ccc", dimension)] == pytest.approx(expected)
            change = expected - summary.loc["clean", ("ccc", dimension)]
            assert summary.loc[name, ("ccc_change", dimension)] == pytest.approx(change)
    assert (summary.loc["white-noise-0db", "shift"] > 0).all()
    assert (
        summary.loc["white-noise-0db", "shift"]
        > summary.loc["white-noise-20db", "shift"]
    ).all()

    # deterministic for a seed, and the seed matters
    again = robustness(interface, files, perturbations="white-noise-0db")
    pd.testing.assert_frame_equal(
        again.predictions.loc["white-noise-0db"], predictions.loc["white-noise-0db"]
    )
    other = robustness(interface, files, perturbations="white-noise-0db", seed=1)
    assert not np.allclose(
        other.predictions.loc["white-noise-0db"], predictions.loc["white-noise-0db"]
    )


def test_robustness_ccc_needs_two_rated_files(model_root, speech_files):
    # a NaN rating leaves its file out of the CCC of that dimension;
    # fewer than two rated files give no CCC
    interface = audemo.Emotion(model_root)
    truth = pd.DataFrame(
        {"arousal": [0.8, 0.2, np.nan], "valence": [0.3, np.nan, np.nan]},
        index=audformat.filewise_index(speech_files),
    )
    predictions, summary = robustness(
        interface, speech_files, truth=truth, perturbations="gain-minus-20db"
    )
    for name in ["clean", "gain-minus-20db"]:
        arousal = predictions.loc[name]["arousal"].to_numpy(np.float64)
        expected = ccc(truth["arousal"].to_numpy()[:2], arousal[:2])
        assert summary.loc[name, ("ccc", "arousal")] == pytest.approx(expected)
    assert summary[("ccc", "valence")].isna().all()


def test_robustness_index_and_windows(model_root, files):
    root = os.path.dirname(files[0])
    index = audformat.segmented_index(
        [os.path.basename(files[0]), os.path.basename(files[1])],
        [0.1, 0.5],
        [2.0, pd.NaT],
    )
    interface = audemo.Emotion(model_root, win_dur=1.0, hop_dur=0.5)
    names = ["gain-plus-6db", "babble-10db"]
    predictions, summary = robustness(interface, index, perturbations=names, root=root)
    clean = predictions.loc["clean"]
    pd.testing.assert_frame_equal(clean, interface.process_index(index, root=root))
    assert len(clean) > len(index)
    for name in names:
        assert predictions.loc[name].index.equals(clean.index)
    # with a single file there is no babble
    with pytest.warns(RuntimeWarning, match="babble-.*only one file"):
        predictions, summary = robustness(interface, files[0], perturbations=names)
    assert list(summary.index) == ["clean", "gain-plus-6db"]


def test_robustness_segments(model_root, speech_files):
    interface = audemo.Emotion(model_root, segment=audemo.VoiceActivity())
    predictions, summary = robustness(
        interface, speech_files, perturbations=["white-noise-0db"]
    )
    clean = predictions.loc["clean"].groupby(level="file").mean()
    noisy = predictions.loc["white-noise-0db"].groupby(level="file").mean()
    for dimension in DIMENSIONS:
        shift = np.abs(noisy[dimension] - clean[dimension]).mean()
        assert summary.loc["white-noise-0db", ("shift", dimension)] == pytest.approx(
            shift
        )


def test_robustness_failing_file(model_root, speech_files, tmp_path):
    files = speech_files + [str(tmp_path / "missing.wav")]
    truth = pd.DataFrame(
        {"arousal": [0.1, 0.9, 0.5, 0.3]}, index=audformat.filewise_index(files)
    )
    interface = audemo.Emotion(model_root, errors="coerce")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        predictions, summary = robustness(
            interface, files, truth=truth, perturbations=["quantize-8bit"]
        )
    messages = [str(warning.message) for warning in record]
    assert any("missing.wav' does not exist" in message for message in messages)
    assert any(
        "1 of 4 files" in message and "missing.wav': all runs" in message
        for message in messages
    )
    missing = predictions.xs(files[-1], level="file")
    assert missing[DIMENSIONS].isna().all().all()
    clean = predictions.loc["clean"].iloc[:3]
    expected = ccc(truth["arousal"].to_numpy()[:3], clean["arousal"].to_numpy(float))
    assert summary.loc["clean", ("ccc", "arousal")] == pytest.approx(expected)
    assert summary.notna().all().all()


def test_robustness_failing_perturbation(model_root, speech_files, monkeypatch):
    lengths = [audiofile.samples(file) for file in speech_files]

    def broken(signal, sampling_rate, name, **kwargs):
        if name == "gain-plus-6db":
            raise ValueError("broken perturbation")
        y = perturb(signal, sampling_rate, name, **kwargs)
        if signal.shape[-1] == lengths[1]:
            y[:] = np.nan
        return y

    monkeypatch.setattr(robustness_module, "perturb", broken)
    names = ["gain-plus-6db", "quantize-8bit"]
    interface = audemo.Emotion(model_root, errors="coerce")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        predictions, summary = robustness(interface, speech_files, perturbations=names)
    messages = [str(warning.message) for warning in record]
    assert any("broken perturbation" in message for message in messages)
    # the interface's warning names the file, not its perturbed copy
    assert any(
        message.startswith("Perturbation 'quantize-8bit'")
        and f"'{speech_files[1]}'" in message
        and "NaN" in message
        for message in messages
    )
    assert predictions.loc["gain-plus-6db"][DIMENSIONS].isna().all().all()
    assert summary.isna().all().all()

    interface = audemo.Emotion(model_root)
    with pytest.raises(RuntimeError, match="Cannot apply 'gain-plus-6db' to"):
        robustness(interface, speech_files, perturbations=names)


def test_unperturbed_copies_give_the_clean_predictions(model_root, files, monkeypatch):
    # the copies go through the same pipeline as the files:
    # resampling of the 48 kHz stereo file and windows included
    monkeypatch.setattr(
        robustness_module, "perturb", lambda signal, *args, **kwargs: signal
    )
    interface = audemo.Emotion(model_root, win_dur=2.0)
    predictions, summary = robustness(interface, files, perturbations="gain-plus-6db")
    pd.testing.assert_frame_equal(
        predictions.loc["gain-plus-6db"], predictions.loc["clean"]
    )
    assert (summary == 0).all().all()


def test_robustness_without_mp3(model_root, speech_files, monkeypatch):
    monkeypatch.setattr(soundfile, "available_formats", lambda: {"WAV": "WAV"})
    interface = audemo.Emotion(model_root)
    with pytest.warns(RuntimeWarning, match="mp3-32kbps: .* cannot write MP3"):
        _, summary = robustness(
            interface, speech_files[:2], perturbations=["mp3-32kbps"]
        )
    assert list(summary.index) == ["clean"]


def test_robustness_verbose(model_root, speech_files, capsys):
    interface = audemo.Emotion(model_root)
    robustness(
        interface, speech_files[:2], perturbations="gain-minus-20db", verbose=True
    )
    assert "Perturb" in capsys.readouterr().err
    assert interface.verbose is False


def test_robustness_errors(model_root, speech_files, monkeypatch):
    interface = audemo.Emotion(model_root)
    with pytest.raises(ValueError, match="Unknown perturbation 'noise'. Valid names"):
        robustness(interface, speech_files, perturbations=["noise"])
    with pytest.raises(ValueError, match="more than once"):
        robustness(interface, speech_files, perturbations=["quantize-8bit"] * 2)
    with pytest.raises(ValueError, match="files is empty"):
        robustness(interface, [])
    with pytest.raises(ValueError, match="files is empty"):
        robustness(interface, audformat.filewise_index())
    with pytest.raises(ValueError, match="more than once"):
        robustness(interface, [speech_files[0], speech_files[0]])
    with pytest.raises(ValueError, match="outputs='logits'"):
        robustness(audemo.Emotion(model_root, outputs="hidden_states"), speech_files)

    index = audformat.filewise_index(speech_files)
    with pytest.raises(ValueError, match="filewise index"):
        truth = pd.DataFrame(
            {"arousal": [0.5] * 3},
            index=audformat.segmented_index(speech_files, [0] * 3, [1] * 3),
        )
        robustness(interface, speech_files, truth=truth)
    with pytest.raises(ValueError, match="one or more of the columns"):
        robustness(
            interface, speech_files, truth=pd.DataFrame({"anger": [1] * 3}, index=index)
        )
    with pytest.raises(ValueError, match="no rows for 1 of 3 files"):
        truth = pd.DataFrame({"valence": [0.5] * 2}, index=index[:2])
        robustness(interface, speech_files, truth=truth)


def test_robustness_with_truth_without_audmetric(model_root, speech_files, monkeypatch):
    # the CCC is audemo's own: comparing with truth does not need audmetric
    interface = audemo.Emotion(model_root)
    index = audformat.filewise_index(speech_files)
    truth = pd.DataFrame({"valence": [0.2, 0.5, 0.8]}, index=index)
    options = {"perturbations": "gain-minus-20db", "truth": truth}
    _, expected = robustness(interface, speech_files, **options)
    monkeypatch.setitem(sys.modules, "audmetric", None)
    _, summary = robustness(interface, speech_files, **options)
    assert "ccc" in summary.columns.get_level_values(0)
    pd.testing.assert_frame_equal(summary, expected)
