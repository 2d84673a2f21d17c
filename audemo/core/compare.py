r"""Agreement of the int8 model with the float32 model on your files."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from audemo.core import metrics
from audemo.core.define import DIMENSIONS
from audemo.core.emotion import Emotion


def compare_precision(
    files: Sequence[str],
    *,
    model: str | None = None,
    root: str | None = None,
    cache_root: str | None = None,
    num_workers: int | None = 1,
    verbose: bool = False,
) -> pd.DataFrame:
    r"""Compare the int8 model with the float32 model on your own files.

    Quantization changes the numbers a little.
    How much matters depends on the real weights and on your data,
    so check it before you switch to ``precision="int8"``.
    Both models run on ``files``;
    for each dimension the table gives
    the concordance correlation coefficient (CCC)
    and Pearson correlation between the two models' scores
    and the mean and largest absolute difference;
    for the embedding (``hidden_states``)
    the mean cosine similarity and the largest absolute difference.

    Args:
        files: audio files
        model: model reference, see :func:`audemo.download_model`
        root: root folder of relative file paths
        cache_root: cache folder of models
        num_workers: number of files processed in parallel
        verbose: show progress bars

    Returns:
        one row per dimension and one for ``hidden_states``

    Examples:
        >>> root = audemo.testing.create_model("model")
        >>> table = compare_precision(["speech.wav", "speech.wav"], model=root)
        >>> list(table.index)
        ['arousal', 'dominance', 'valence', 'hidden_states']
        >>> bool(table.loc["arousal", "max_abs_diff"] < 0.05)
        True

    """
    results = {}
    for precision in ("fp32", "int8"):
        interface = Emotion(
            model,
            outputs=["logits", "hidden_states"],
            precision=precision,
            model_cache_root=cache_root,
            num_workers=num_workers,
            verbose=verbose,
        )
        results[precision] = interface.process_files(files, root=root)
    fp32, int8 = results["fp32"], results["int8"]
    rows = {}
    for name in DIMENSIONS:
        x = fp32[name].to_numpy(np.float64)
        y = int8[name].to_numpy(np.float64)
        difference = np.abs(x - y)
        rows[name] = {
            "ccc": metrics.ccc(x, y),
            "pearson": metrics.pearson(x, y),
            "mean_abs_diff": difference.mean(),
            "max_abs_diff": difference.max(),
            "cosine": np.nan,
        }
    embedding = [column for column in fp32.columns if column not in DIMENSIONS]
    x = fp32[embedding].to_numpy(np.float64)
    y = int8[embedding].to_numpy(np.float64)
    cosine = (x * y).sum(axis=1) / (
        np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    )
    rows["hidden_states"] = {
        "ccc": np.nan,
        "pearson": np.nan,
        "mean_abs_diff": np.abs(x - y).mean(),
        "max_abs_diff": np.abs(x - y).max(),
        "cosine": cosine.mean(),
    }
    return pd.DataFrame.from_dict(rows, orient="index")
