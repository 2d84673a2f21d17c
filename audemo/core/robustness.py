r"""Robustness of the predictions to small perturbations of the audio."""

from __future__ import annotations

from collections.abc import Sequence
import io
import os
import tempfile
import typing
import warnings
import zlib

import numpy as np
import pandas as pd
import soundfile

import audeer
import audformat
import audiofile
import audresample

from audemo.core import metrics
from audemo.core.define import DIMENSIONS
from audemo.core.define import SAMPLING_RATE
from audemo.core.emotion import Emotion
from audemo.core.utils import caller_stacklevel
from audemo.core.utils import warn_items


_SPECS = {
    "white-noise-20db": ("white", 20.0),
    "white-noise-10db": ("white", 10.0),
    "white-noise-0db": ("white", 0.0),
    "babble-20db": ("babble", 20.0),
    "babble-10db": ("babble", 10.0),
    "babble-0db": ("babble", 0.0),
    "gain-minus-20db": ("gain", -20.0),
    "gain-plus-6db": ("gain", 6.0),
    "lowpass-3400hz": ("lowpass", 3400.0),
    "quantize-8bit": ("quantize", 8.0),
    "mp3-32kbps": ("mp3", 32.0),
}

PERTURBATIONS = tuple(_SPECS)
r"""Names of the perturbations, see :doc:`/robustness`.

``white-noise-<snr>db`` and ``babble-<snr>db``
add noise at a signal-to-noise ratio of 20, 10 or 0 dB,
``gain-minus-20db`` and ``gain-plus-6db`` change the level
(clipped to [-1, 1]),
``lowpass-3400hz`` keeps the telephone band,
``quantize-8bit`` rounds to 256 levels
and ``mp3-32kbps`` is a round trip through an MP3 codec.
"""

CLEAN = "clean"
r"""Name of the run on the unchanged audio."""

BABBLE_TALKERS = 4
r"""Number of talkers summed up to babble noise."""

BABBLE_POOL = 16
r"""Largest number of files :func:`robustness` reads babble talkers from."""

BABBLE_POOL_DUR = 30.0
r"""Seconds read from the start of each file of the babble pool."""

MP3_SAMPLING_RATE = 16000
r"""Sampling rate in Hz at which signals are MP3 encoded."""

# libsndfile maps compression_level 0..1 linearly onto the bitrates
# of the MPEG version, 160..8 kbps for MPEG-2 at 16 kHz;
# LAME takes the nearest bitrate it has
_MP3_BITRATE = 32
_MP3_COMPRESSION = (160 - _MP3_BITRATE) / (160 - 8)
# LAME's encoder delay (576) plus mpg123's decoder delay (529).
# Below 40 kbps at 16 kHz the first frame is too small for the
# LAME tag that lets the decoder remove them itself
_MP3_DELAY = 1105

# files perturbed and processed together: bounds the temporary disk
# space; not fewer, as the interface may start a process pool per call
_BATCH_FILES = 128


class RobustnessResult(typing.NamedTuple):
    r"""Result of :func:`robustness`.

    A named tuple:
    ``predictions, summary = audemo.robustness(...)``.

    """

    predictions: pd.DataFrame
    r"""Predictions of every run.

    The index has the level ``perturbation``
    (``"clean"`` first, then the perturbations)
    before the levels ``file``, ``start`` and ``end``
    of the interface's result;
    the columns are those of the interface.
    Inputs that failed have NaN values.
    """

    summary: pd.DataFrame
    r"""One row per run, ``"clean"`` first.

    Columns ``("shift", <dimension>)``:
    mean absolute difference to the clean prediction;
    with ``truth``
    also ``("ccc", <dimension>)``:
    concordance correlation coefficient with ``truth``,
    and ``("ccc_change", <dimension>)``:
    CCC minus the CCC of the clean run.
    """


def perturb(
    signal: np.ndarray,
    sampling_rate: int,
    perturbation: str,
    *,
    seed: int | Sequence[int] = 0,
    babble: Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    r"""Apply a perturbation to a signal.

    See :doc:`/robustness` for what each perturbation does.
    Noise is the same in every channel
    and scaled to the power of the whole signal
    (all channels, all samples, pauses included);
    it is not clipped.
    A silent signal stays silent.

    Args:
        signal: signal of shape ``(samples,)``
            or ``(channels, samples)``
        sampling_rate: sampling rate in Hz
        perturbation: one of :data:`audemo.PERTURBATIONS`
        seed: seed of the random numbers of the noise
            (used by ``white-noise-*`` and ``babble-*``)
        babble: speech signals at ``sampling_rate``
            to make babble noise of
            (needed by ``babble-*``)

    Returns:
        perturbed signal as float32,
        of the same shape as ``signal``

    Raises:
        ValueError: if ``perturbation`` is unknown,
            ``signal`` has more than two dimensions,
            or ``babble`` is missing or silent for ``babble-*``
        RuntimeError: for ``mp3-32kbps``
            if libsndfile cannot write MP3

    Examples:
        >>> signal, sampling_rate = audiofile.read("speech.wav")
        >>> noisy = perturb(signal, sampling_rate, "white-noise-10db", seed=1)
        >>> noise = noisy - signal
        >>> snr = 10 * np.log10(np.mean(signal**2) / np.mean(noise**2))
        >>> round(float(snr), 2)
        10.0
        >>> quiet = perturb(signal, sampling_rate, "gain-minus-20db")
        >>> bool(np.allclose(quiet, 0.1 * signal))
        True

    """
    kind, value = _spec(perturbation)
    signal = np.asarray(signal)
    if signal.ndim > 2:
        raise ValueError(
            f"signal must have the shape (samples,) or (channels, samples), "
            f"not {signal.shape}."
        )
    y = np.atleast_2d(signal).astype(np.float64)
    num_samples = y.shape[-1]
    rng = np.random.default_rng(seed)
    if kind == "white":
        y = _add_noise(y, _white_noise(num_samples, sampling_rate, rng), value)
    elif kind == "babble":
        y = _add_noise(y, _babble_noise(num_samples, babble, rng), value)
    elif kind == "gain":
        y = np.clip(y * 10 ** (value / 20), -1.0, 1.0)
    elif kind == "lowpass":
        y = _lowpass(y, sampling_rate, value)
    elif kind == "quantize":
        levels = 2 ** (int(value) - 1)
        y = np.clip(np.round(y * levels), -levels, levels - 1) / levels
    else:
        y = np.stack([_mp3_round_trip(channel, sampling_rate) for channel in y])
    return y.astype(np.float32).reshape(signal.shape)


def robustness(
    interface: Emotion,
    files: Sequence[str] | pd.Index,
    *,
    truth: pd.DataFrame | None = None,
    perturbations: str | Sequence[str] | None = None,
    root: str | None = None,
    seed: int = 0,
    verbose: bool = False,
) -> RobustnessResult:
    r"""Predictions under perturbations of the audio, and how much they change.

    ``interface`` runs on ``files`` as they are
    (the clean run,
    exactly ``interface.process_index(index, root=root)``)
    and on perturbed copies of them,
    one run per perturbation.
    Each file is perturbed
    at its own sampling rate and with all its channels
    (see :func:`audemo.perturb`),
    written to a temporary WAV file (float32),
    and processed by ``interface.process_index``
    with the same index:
    resampling, channel selection, windows,
    segmentation and chunking work as in normal use
    and the rows of every run are those of the clean run
    (except with ``segment``,
    which may find other segments in perturbed audio).

    Babble noise is made of up to 16 files of ``files``,
    never including the file it is added to;
    with only one file,
    the babble perturbations are left out with a warning.
    ``mp3-32kbps`` is left out with a warning
    where libsndfile cannot write MP3.

    The summary compares every run with the clean run
    row by row (file, segment or window);
    with ``segment``, file by file
    (mean over the rows of each file).
    With ``truth``
    the predictions are averaged over the rows of each file
    and compared with the truth by the CCC.
    A file with NaN predictions in any run
    (e.g. it failed with ``errors="coerce"``)
    is left out of the whole summary with a warning,
    so that every row of the summary
    is computed on the same files.

    Args:
        interface: emotion interface with the output ``logits``
        files: audio files, or an audformat filewise or segmented index
        truth: ratings with the index of the files
            (filewise, file paths as in ``files``)
            and one or more of the columns
            ``arousal``, ``dominance`` and ``valence``,
            in the range of the predictions (0..1)
        perturbations: names from :data:`audemo.PERTURBATIONS`,
            ``None`` for all
        root: root folder of relative file paths
        seed: seed of the random numbers of the noise perturbations;
            the noise of a file depends on ``seed`` and its path
        verbose: show a progress bar

    Returns:
        predictions of every run and summary table

    Raises:
        ValueError: if a perturbation name is unknown,
            ``files`` is empty or lists a file or segment twice,
            ``interface`` has no ``logits`` output,
            or ``truth`` has no dimension column
            or lacks files

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> interface = audemo.Emotion(root)
        >>> predictions, summary = robustness(
        ...     interface,
        ...     ["speech.wav"],
        ...     perturbations=["white-noise-10db", "gain-minus-20db"],
        ... )
        >>> summary["shift"].round(3)
        dimension         arousal  dominance  valence
        perturbation
        clean               0.000      0.000    0.000
        white-noise-10db    0.006      0.008    0.007
        gain-minus-20db     0.003      0.012    0.012

    """
    names = _check_perturbations(perturbations)
    index = _to_index(files)
    if not set(DIMENSIONS) <= set(interface.column_names):
        raise ValueError(
            "robustness() compares arousal, dominance and valence: "
            "use an interface with outputs='logits' "
            "(or ['logits', 'hidden_states'])."
        )
    index_files = list(dict.fromkeys(index.get_level_values("file")))
    if truth is not None:
        truth = _check_truth(truth, index_files)

    interface_verbose = interface.verbose
    try:
        interface.verbose = interface.process.verbose = verbose
        clean = interface.process_index(index, root=root)
        interface.verbose = interface.process.verbose = False
        runs = _perturbed_runs(
            interface, index, clean, names, root=root, seed=seed, verbose=verbose
        )
    finally:
        interface.verbose = interface.process.verbose = interface_verbose

    runs = {CLEAN: clean, **runs}
    predictions = pd.concat(runs, names=["perturbation"])
    per_file = interface.process.segment is not None
    summary = _summarize_runs(runs, index_files, truth, per_file)
    return RobustnessResult(predictions, summary)


def _spec(name: str) -> tuple[str, float]:
    if name not in _SPECS:
        raise ValueError(
            f"Unknown perturbation '{name}'. Valid names: {', '.join(PERTURBATIONS)}."
        )
    return _SPECS[name]


def _check_perturbations(perturbations) -> list[str]:
    names = list(
        PERTURBATIONS if perturbations is None else audeer.to_list(perturbations)
    )
    for name in names:
        _spec(name)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"Perturbations are listed more than once: {repeated}.")
    return names


def _to_index(files) -> pd.Index:
    if isinstance(files, pd.Index):
        index = files
    elif isinstance(files, str):
        index = audformat.filewise_index([files])
    else:
        index = audformat.filewise_index(list(files))
    if len(index) == 0:
        raise ValueError("files is empty: give at least one audio file.")
    if index.has_duplicates:
        repeated = list(dict.fromkeys(index[index.duplicated()].tolist()))
        raise ValueError(f"files lists entries more than once: {repeated}.")
    return index


def _check_truth(truth: pd.DataFrame, files: list[str]) -> pd.DataFrame:
    if not audformat.is_filewise_index(truth.index):
        raise ValueError(
            "truth must have a filewise index (one row per file, level 'file')."
        )
    columns = [name for name in DIMENSIONS if name in truth.columns]
    if not columns:
        raise ValueError(
            f"truth must have one or more of the columns {list(DIMENSIONS)}, "
            f"not {list(truth.columns)}."
        )
    missing = [file for file in files if file not in truth.index]
    if missing:
        raise ValueError(
            f"truth has no rows for {len(missing)} of {len(files)} files: "
            f"{missing[:5]}{' ...' if len(missing) > 5 else ''}."
        )
    return truth.loc[files, columns].astype(np.float64)


def _perturbed_runs(interface, index, clean, names, *, root, seed, verbose):
    # files without any finite prediction failed or have no speech:
    # their perturbed runs would tell nothing
    values = clean[list(DIMENSIONS)]
    finite = np.isfinite(values.to_numpy(np.float64)).all(axis=1)
    good = set(clean.index.get_level_values("file")[finite])
    files = [
        file for file in dict.fromkeys(index.get_level_values("file")) if file in good
    ]

    names = _available_perturbations(names, len(files))
    pool = _babble_pool(interface, files, root, seed) if _needs_babble(names) else []
    frames = {name: [] for name in names}
    with audeer.progress_bar(
        total=len(names) * len(files),
        desc="Perturb and process",
        disable=not verbose,
    ) as bar:
        for begin in range(0, len(files), _BATCH_FILES):
            batch = files[begin : begin + _BATCH_FILES]
            with tempfile.TemporaryDirectory(prefix="audemo-robustness-") as tmp:
                copies = _write_copies(
                    interface, batch, names, pool, tmp, root=root, seed=seed
                )
                for name in names:
                    frames[name].append(
                        _process_copies(interface, index, copies[name], name)
                    )
                    bar.update(len(batch))

    runs = {}
    for name in names:
        parts = [part for part in frames[name] if part is not None]
        frame = pd.concat(parts) if parts else clean.iloc[:0]
        if interface.process.segment is None:
            # same rows as the clean run, NaN for the files left out
            frame = frame.reindex(clean.index)
        else:
            left_out = ~clean.index.get_level_values("file").isin(
                frame.index.get_level_values("file")
            )
            frame = pd.concat([frame, clean[left_out] * np.nan])
        runs[name] = frame.astype(clean.dtypes.to_dict())
    return runs


def _available_perturbations(names: list[str], num_files: int) -> list[str]:
    left_out, reasons = set(), []
    if "mp3-32kbps" in names and not _mp3_available():
        left_out.add("mp3-32kbps")
        reasons.append(
            "mp3-32kbps: the libsndfile of soundfile cannot write MP3 "
            "(it needs libsndfile >= 1.1.0 built with LAME and mpg123)"
        )
    if _needs_babble(names) and num_files < 2:
        left_out.update(name for name in names if _SPECS[name][0] == "babble")
        reasons.append(
            "babble-*: babble noise is made of other files, "
            "but there is only one file that can be processed"
        )
    if reasons:
        warn_items("Perturbations left out", reasons)
    return [name for name in names if name not in left_out]


def _needs_babble(names: list[str]) -> bool:
    return any(_SPECS[name][0] == "babble" for name in names)


def _mp3_available() -> bool:
    return "MP3" in soundfile.available_formats()


def _path(file: str, root: str | None) -> str:
    return os.path.join(root, file) if root and not os.path.isabs(file) else file


def _babble_pool(interface, files, root, seed) -> list[tuple[str, np.ndarray]]:
    r"""Speech of up to BABBLE_POOL files, mono at 16 kHz."""
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(files), min(BABBLE_POOL, len(files)), replace=False))
    pool = []
    for position in chosen:
        file = files[position]
        signal, sampling_rate = audiofile.read(
            _path(file, root), duration=BABBLE_POOL_DUR, always_2d=True
        )
        # the babble should sound like the speech the model hears
        signal = audresample.remix(
            signal, interface.channels, mixdown=interface.process.mixdown
        )
        signal = audresample.resample(signal, sampling_rate, SAMPLING_RATE)
        pool.append((file, signal.mean(axis=0)))
    return pool


def _babble_sources(
    file: str,
    pool: list[tuple[str, np.ndarray]],
    sampling_rate: int,
    resampled: dict,
) -> list[np.ndarray]:
    r"""Babble talkers of a file: the pool without the file itself."""
    if sampling_rate not in resampled:
        resampled[sampling_rate] = [
            (
                other,
                audresample.resample(signal, SAMPLING_RATE, sampling_rate).reshape(-1)
                if sampling_rate != SAMPLING_RATE
                else signal,
            )
            for other, signal in pool
        ]
    return [signal for other, signal in resampled[sampling_rate] if other != file]


def _write_copies(interface, files, names, pool, folder, *, root, seed):
    r"""Write perturbed copies, return {name: {copy path: file}}."""
    copies = {name: {} for name in names}
    failures = []
    resampled = {}
    for position, file in enumerate(files):
        # stable across processes and runs, unlike hash()
        file_seed = [seed, zlib.crc32(file.encode())]
        base = audeer.basename_wo_ext(file) + ".wav"
        loaded = None
        for number, name in enumerate(names):
            path = os.path.join(folder, str(number), str(position), base)
            try:
                if loaded is None:
                    signal, sampling_rate = audiofile.read(
                        _path(file, root), always_2d=True
                    )
                    babble = (
                        _babble_sources(file, pool, sampling_rate, resampled)
                        if pool
                        else None
                    )
                    loaded = signal, sampling_rate, babble
                signal, sampling_rate, babble = loaded
                y = perturb(signal, sampling_rate, name, seed=file_seed, babble=babble)
                audeer.mkdir(os.path.dirname(path))
                soundfile.write(path, y.T, sampling_rate, subtype="FLOAT", format="WAV")
            except Exception as ex:
                if interface.errors == "raise":
                    raise RuntimeError(
                        f"Cannot apply '{name}' to '{file}': {ex}"
                    ) from ex
                failures.append(f"'{file}' ({name}): {ex}")
                continue
            copies[name][path] = file
    if failures:
        warn_items(
            f"{len(failures)} perturbed inputs failed "
            f"and have NaN values in the result (errors='coerce')",
            failures,
        )
    return copies


def _process_copies(interface, index, copies: dict[str, str], name: str):
    if not copies:
        return None
    path_of = {file: path for path, file in copies.items()}
    rows = index[index.get_level_values("file").isin(list(path_of))]
    if audformat.is_filewise_index(rows):
        sub_index = audformat.filewise_index([path_of[file] for file in rows])
    else:
        sub_index = audformat.segmented_index(
            [path_of[file] for file in rows.get_level_values("file")],
            rows.get_level_values("start"),
            rows.get_level_values("end"),
        )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        frame = interface.process_index(sub_index)
    for warning in record:
        message = str(warning.message)
        for path, file in copies.items():
            message = message.replace(path, file)
        warnings.warn(
            f"Perturbation '{name}': {message}",
            warning.category,
            stacklevel=caller_stacklevel(),
        )
    frame.index = audformat.segmented_index(
        [copies[path] for path in frame.index.get_level_values("file")],
        frame.index.get_level_values("start"),
        frame.index.get_level_values("end"),
    )
    return frame


def _summarize_runs(runs, files, truth, per_file) -> pd.DataFrame:
    r"""Shift (and CCC with ``truth``) of every run, on the same files."""
    units, unit_files = _comparable_units(runs, files, per_file)
    failed = _failed_files(units, unit_files, len(files))
    keep = ~unit_files.isin(list(failed))
    reference = units[CLEAN].to_numpy(np.float64)[keep]
    table = {}
    for name, frame in units.items():
        shift = np.abs(frame.to_numpy(np.float64)[keep] - reference)
        table[name] = {
            ("shift", dimension): shift[:, i].mean() if len(shift) else np.nan
            for i, dimension in enumerate(DIMENSIONS)
        }
    if truth is not None:
        files_kept = [file for file in files if file not in failed]
        _add_truth_ccc(table, runs, truth, files_kept)
    summary = pd.DataFrame.from_dict(table, orient="index")
    order = ["shift", "ccc", "ccc_change"]
    columns = sorted(summary.columns, key=lambda column: order.index(column[0]))
    summary = summary[columns]
    summary.columns = pd.MultiIndex.from_tuples(columns, names=["metric", "dimension"])
    summary.index.name = "perturbation"
    return summary


def _comparable_units(runs, files, per_file) -> tuple[dict, pd.Index]:
    r"""Rows compared between runs, and the file of each row.

    Rows are files (mean over their rows) with ``per_file``,
    else the rows of the runs.

    """
    if per_file:
        units = {name: _file_means(frame, files) for name, frame in runs.items()}
        return units, pd.Index(files)
    units = {name: frame[list(DIMENSIONS)] for name, frame in runs.items()}
    return units, runs[CLEAN].index.get_level_values("file")


def _failed_files(units, unit_files, num_files) -> dict[str, list[str]]:
    r"""Files with NaN in some runs, and those runs; warn about them."""
    failed = {}
    for name, frame in units.items():
        bad = ~np.isfinite(frame.to_numpy(np.float64)).all(axis=1)
        for file in dict.fromkeys(unit_files[bad]):
            failed.setdefault(file, []).append(name)
    if failed:
        warn_items(
            f"{len(failed)} of {num_files} files have NaN or no predictions "
            f"in some runs and are left out of the summary",
            [
                f"'{file}': "
                + ("all runs" if len(names) == len(units) else ", ".join(names))
                for file, names in failed.items()
            ],
        )
    return failed


def _add_truth_ccc(table: dict, runs, truth: pd.DataFrame, files: list[str]):
    r"""Add ``ccc`` and ``ccc_change`` of every run to the rows of ``table``."""
    clean_ccc = {}
    for name, frame in runs.items():
        means = _file_means(frame, files)
        for dimension in truth.columns:
            value = _ccc_with_truth(truth.loc[files, dimension], means[dimension])
            clean_ccc.setdefault(dimension, value)
            table[name][("ccc", dimension)] = value
            table[name][("ccc_change", dimension)] = value - clean_ccc[dimension]


def _ccc_with_truth(truth: pd.Series, prediction: pd.Series) -> float:
    x = truth.to_numpy(np.float64)
    y = prediction.to_numpy(np.float64)
    valid = np.isfinite(x) & np.isfinite(y)
    if valid.sum() < 2:
        return float("nan")
    return metrics.ccc(x[valid], y[valid])


def _add_noise(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    signal_power = np.mean(signal**2) if signal.size else 0.0
    noise_power = np.mean(noise**2) if noise.size else 0.0
    if signal_power == 0 or noise_power == 0:
        return signal
    scale = np.sqrt(signal_power / (noise_power * 10 ** (snr_db / 10)))
    return signal + scale * noise


def _white_noise(num_samples: int, sampling_rate: int, rng) -> np.ndarray:
    if sampling_rate <= SAMPLING_RATE:
        return rng.standard_normal(num_samples)
    # white up to 8 kHz, the band the model hears, so that the
    # SNR is the SNR of what the model gets after resampling
    length = int(np.ceil(num_samples * SAMPLING_RATE / sampling_rate)) + 1
    noise = rng.standard_normal(length).astype(np.float32)
    noise = audresample.resample(noise, SAMPLING_RATE, sampling_rate).reshape(-1)
    return _fit_length(noise.astype(np.float64), num_samples)


def _babble_noise(num_samples: int, babble, rng) -> np.ndarray:
    if babble is None:
        raise ValueError(
            "Babble noise needs speech signals: pass them as babble=[...]."
        )
    talkers = [np.atleast_2d(np.asarray(t, np.float64)).mean(axis=0) for t in babble]
    talkers = [t for t in talkers if t.size and np.mean(t**2) > 0]
    if not talkers:
        raise ValueError(
            "Babble noise needs speech signals, but babble is empty or silent."
        )
    # every talker is used before one is used again
    order = np.resize(rng.permutation(len(talkers)), BABBLE_TALKERS)
    noise = np.zeros(num_samples)
    for choice in order:
        talker = talkers[choice]
        offset = rng.integers(talker.size)
        # equal loudness per talker; shorter talkers repeat
        piece = np.resize(np.roll(talker, -offset), num_samples)
        noise += piece / np.sqrt(np.mean(talker**2))
    return noise


def _lowpass(signal: np.ndarray, sampling_rate: int, cutoff: float) -> np.ndarray:
    low_rate = int(2 * cutoff)
    if sampling_rate <= low_rate:
        return signal
    # audresample's anti-aliasing filter keeps 0..~3.2 kHz and removes
    # everything above 3.4 kHz when going down to 6800 Hz
    low = audresample.resample(signal.astype(np.float32), sampling_rate, low_rate)
    back = audresample.resample(low, low_rate, sampling_rate)
    return np.stack([_fit_length(channel, signal.shape[-1]) for channel in back])


def _mp3_round_trip(channel: np.ndarray, sampling_rate: int) -> np.ndarray:
    if not _mp3_available():
        raise RuntimeError(
            "The libsndfile of soundfile cannot write MP3 "
            "(it needs libsndfile >= 1.1.0 built with LAME and mpg123)."
        )
    num_samples = channel.size
    if num_samples == 0:
        return channel
    signal = channel.astype(np.float32)
    if sampling_rate != MP3_SAMPLING_RATE:
        signal = audresample.resample(signal, sampling_rate, MP3_SAMPLING_RATE)[0]
    decoded, _ = soundfile.read(io.BytesIO(_encode_mp3(signal)), dtype="float32")
    if decoded.size >= signal.size + _MP3_DELAY:
        decoded = decoded[_MP3_DELAY:]
    decoded = _fit_length(decoded, signal.size)
    if sampling_rate != MP3_SAMPLING_RATE:
        decoded = audresample.resample(decoded, MP3_SAMPLING_RATE, sampling_rate)[0]
    return _fit_length(decoded.astype(np.float64), num_samples)


def _encode_mp3(signal: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(
        buffer,
        signal,
        MP3_SAMPLING_RATE,
        format="MP3",
        subtype="MPEG_LAYER_III",
        compression_level=_MP3_COMPRESSION,
        bitrate_mode="CONSTANT",
    )
    return buffer.getvalue()


def _fit_length(signal: np.ndarray, num_samples: int) -> np.ndarray:
    if signal.size >= num_samples:
        return signal[:num_samples]
    return np.pad(signal, (0, num_samples - signal.size))


def _file_means(frame: pd.DataFrame, files: list[str]) -> pd.DataFrame:
    r"""Mean prediction per file, in the order of ``files``."""
    means = frame[list(DIMENSIONS)].groupby(level="file", sort=False).mean()
    return means.reindex(files)
