r"""Training of a categories classifier on the model's embedding.

:func:`train_categories` fits a scikit-learn pipeline
on the ``hidden_states`` columns of :class:`audemo.Emotion`
and labels matched to its rows (:mod:`audemo.core.categories.alignment`).
scikit-learn is an extra: it is imported when a classifier is fitted.

"""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd

from audemo.core.categories.alignment import align_labels
from audemo.core.categories.alignment import describe_entry
from audemo.core.utils import count
from audemo.core.utils import import_optional


if typing.TYPE_CHECKING:  # pragma: no cover - scikit-learn is an extra
    import sklearn.pipeline


CLASSIFIERS = ("logistic", "svc")
r"""Classifiers of :func:`audemo.train_categories`."""

EMBEDDING_PREFIX = "hidden_states-"
r"""Prefix of the embedding columns."""


def train_categories(
    embeddings: pd.DataFrame,
    labels: pd.Series,
    *,
    classifier: str = "logistic",
    C: float = 1.0,  # noqa: N803 - scikit-learn's name
    max_iter: int = 1000,
) -> sklearn.pipeline.Pipeline:
    r"""Train a classifier for emotion categories on the model's embedding.

    Fits a :class:`sklearn.pipeline.Pipeline`
    that standardizes each embedding dimension
    (:class:`sklearn.preprocessing.StandardScaler`)
    and then applies a linear classifier
    whose classes are weighted inversely to their frequency
    (``class_weight="balanced"``),
    so that rare categories are not ignored:

    * ``"logistic"``: multinomial logistic regression
      (:class:`sklearn.linear_model.LogisticRegression`),
      which gives probabilities
    * ``"svc"``: linear support vector machine
      (:class:`sklearn.svm.LinearSVC`),
      which gives scores (distances to the class boundaries),
      as in audEERING's w2v2-how-to

    ``labels`` are matched to the rows of ``embeddings`` by index:

    * same index type: entry by entry
    * filewise labels (or segments from 0 to ``NaT``, i.e. whole files)
      and embeddings with a segmented index:
      by file, if ``embeddings`` has one row per file,
      as ``process_index()`` gives without ``segment`` and ``win_dur``
    * anything else, e.g. filewise labels for several segments per file,
      is refused as ambiguous

    Rows of ``embeddings`` without a label
    (not in ``labels`` or NaN)
    are left out,
    labels of files that are not in ``embeddings`` are ignored.
    The class names are the labels as strings,
    they become the column names of :class:`audemo.Categories`.

    Use the returned pipeline with scikit-learn
    (e.g. ``predict(embeddings)``),
    evaluate the settings with :func:`audemo.evaluate_categories`,
    and save it for :class:`audemo.Categories`
    with :func:`audemo.save_categories`.

    Args:
        embeddings: model embedding,
            columns ``hidden_states-0``, ``hidden_states-1``, ...
            as :class:`audemo.Emotion` with ``outputs="hidden_states"``
            returns them
            (further columns, e.g. ``arousal``, are ignored)
        labels: category per file or segment,
            e.g. a column of an audformat table
            (``db["emotion"]["emotion"].get()``)
        classifier: ``"logistic"`` or ``"svc"``
        C: inverse regularization strength:
            smaller values regularize more
        max_iter: maximum number of iterations of the solver

    Returns:
        fitted :class:`sklearn.pipeline.Pipeline`

    Raises:
        ImportError: if scikit-learn is not installed
        TypeError: if ``embeddings`` is not a data frame
            or ``labels`` not a series
        ValueError: if ``embeddings`` has no ``hidden_states`` columns,
            labels cannot be matched to rows unambiguously,
            no row has a label,
            a labelled row has NaN values,
            there are fewer than two classes,
            or an argument has an invalid value

    Examples:
        Embeddings of 4 files
        (random numbers standing in for
        ``Emotion(outputs="hidden_states").process_index(...)``):

        >>> files = ["a.wav", "b.wav", "c.wav", "d.wav"]
        >>> embeddings = pd.DataFrame(
        ...     [[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.8, 0.3]],
        ...     index=audformat.filewise_index(files),
        ...     columns=["hidden_states-0", "hidden_states-1"],
        ... )
        >>> labels = pd.Series(
        ...     ["sad", "sad", "happy", "happy"],
        ...     index=audformat.filewise_index(files),
        ... )
        >>> classifier = train_categories(embeddings, labels)
        >>> classifier.classes_.tolist()
        ['happy', 'sad']
        >>> classifier.predict(embeddings).tolist()
        ['sad', 'sad', 'happy', 'happy']

    """
    features, targets = training_data(embeddings, labels)
    check_classes(targets, "The labelled rows")
    return fit_classifier(
        features, targets, classifier=classifier, C=C, max_iter=max_iter
    )


def fit_classifier(
    features: pd.DataFrame,
    targets: pd.Series,
    *,
    classifier: str,
    C: float,  # noqa: N803
    max_iter: int,
) -> sklearn.pipeline.Pipeline:
    r"""Fit a scaler and a linear classifier with balanced class weights.

    Args:
        features: embedding of the labelled rows
        targets: class of each row
        classifier: ``"logistic"`` or ``"svc"``
        C: inverse regularization strength
        max_iter: maximum number of iterations of the solver

    Returns:
        fitted pipeline

    Raises:
        ValueError: if ``classifier`` or ``C`` is invalid

    """
    if classifier not in CLASSIFIERS:
        raise ValueError(
            f"classifier must be one of {CLASSIFIERS}, not {classifier!r}."
        )
    if not C > 0:
        raise ValueError(f"C must be positive, not {C}.")
    purpose = "training categories"
    linear_model = import_optional("sklearn.linear_model", purpose=purpose)
    pipeline = import_optional("sklearn.pipeline", purpose=purpose)
    preprocessing = import_optional("sklearn.preprocessing", purpose=purpose)
    svm = import_optional("sklearn.svm", purpose=purpose)
    if classifier == "logistic":
        linear = linear_model.LogisticRegression(
            C=C, class_weight="balanced", max_iter=max_iter
        )
    else:
        # dual="auto" is the default from scikit-learn 1.5 on: the same
        # solver with every version audemo allows
        linear = svm.LinearSVC(
            C=C,
            class_weight="balanced",
            dual="auto",
            max_iter=max_iter,
            random_state=0,
        )
    scaled = pipeline.make_pipeline(preprocessing.StandardScaler(), linear)
    return scaled.fit(features, targets)


def training_data(
    embeddings: pd.DataFrame, labels: pd.Series
) -> tuple[pd.DataFrame, pd.Series]:
    r"""Embedding columns and classes of the labelled rows.

    Args:
        embeddings: model embedding
        labels: category per file or segment

    Returns:
        features (float64) and classes (strings) of the labelled rows

    Raises:
        TypeError: if ``embeddings`` is not a data frame
        ValueError: if columns are missing, no row has a label,
            or a labelled row has NaN values

    """
    if not isinstance(embeddings, pd.DataFrame):
        raise TypeError(
            f"embeddings must be a pandas DataFrame, not {type(embeddings).__name__}."
        )
    columns = [
        column
        for column in embeddings.columns
        if isinstance(column, str) and column.startswith(EMBEDDING_PREFIX)
    ]
    if columns != embedding_names(len(columns)) or not columns:
        raise ValueError(
            "embeddings must have the columns hidden_states-0, hidden_states-1, ... "
            "in this order, as audemo.Emotion(outputs='hidden_states') "
            "returns them."
        )
    features = embeddings[columns]
    targets = align_labels(features.index, labels, "labels")
    labelled = targets.notna().to_numpy()
    if not labelled.any():
        example = labels.index[0] if len(labels) else "none"
        raise ValueError(
            f"No row of the embeddings has a label: do the file paths match? "
            f"E.g. embeddings {describe_entry(features.index[0])}, "
            f"labels {describe_entry(example)}."
        )
    features = features[labelled].astype(np.float64)
    targets = targets[labelled].astype(str)
    failed = features.isna().any(axis=1).to_numpy()
    if failed.any():
        raise ValueError(
            f"{count(int(failed.sum()), 'labelled row')} "
            f"{'has' if failed.sum() == 1 else 'have'} NaN embeddings "
            f"(inputs that failed with errors='coerce'), "
            f"e.g. {describe_entry(features.index[failed][0])}: "
            f"leave them out, e.g. with embeddings.dropna()."
        )
    return features, targets


def check_classes(targets: pd.Series, where: str) -> list[str]:
    r"""Sorted classes, at least 2.

    Args:
        targets: class per row
        where: the rows, for the message

    Returns:
        sorted class names

    Raises:
        ValueError: if there are fewer than two classes

    Examples:
        >>> check_classes(pd.Series(["sad", "happy", "sad"]), "The rows")
        ['happy', 'sad']

    """
    classes = sorted(targets.unique())
    if len(classes) < 2:
        raise ValueError(
            f"{where} have {count(len(classes), 'class', 'classes')} "
            f"({', '.join(classes)}): "
            f"a classifier needs at least 2."
        )
    return classes


def embedding_names(size: int) -> list[str]:
    r"""Names of the embedding columns.

    Args:
        size: embedding size

    Returns:
        ``hidden_states-0``, ``hidden_states-1``, ...

    Examples:
        >>> embedding_names(2)
        ['hidden_states-0', 'hidden_states-1']

    """
    return [f"{EMBEDDING_PREFIX}{i}" for i in range(size)]
