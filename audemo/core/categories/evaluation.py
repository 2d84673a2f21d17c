r"""Leave-one-speaker-out evaluation of a categories classifier."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from audemo.core.categories.alignment import align_labels
from audemo.core.categories.alignment import describe_entry
from audemo.core.categories.training import check_classes
from audemo.core.categories.training import fit_classifier
from audemo.core.categories.training import training_data
from audemo.core.utils import count
from audemo.core.utils import import_optional


@dataclasses.dataclass(frozen=True, repr=False)
class CategoryEvaluation:
    r"""Result of :func:`audemo.evaluate_categories`."""

    uar: float
    r"""The unweighted average recall, the mean of the recalls of the classes."""

    accuracy: float
    r"""Share of correctly classified rows."""

    confusion: pd.DataFrame
    r"""The confusion matrix, with true classes as rows and predictions as columns."""

    predictions: pd.DataFrame
    r"""One row per labelled row of the embeddings.

    Columns ``speaker`` (the held-out speaker of the fold),
    ``truth`` and ``prediction``.
    """

    def __repr__(self) -> str:
        r"""Measures, number of classes and of speakers."""
        return (
            f"CategoryEvaluation(uar={self.uar:.3f}, accuracy={self.accuracy:.3f}, "
            f"classes={len(self.confusion)}, "
            f"speakers={self.predictions['speaker'].nunique()})"
        )


def evaluate_categories(
    embeddings: pd.DataFrame,
    labels: pd.Series,
    speakers: pd.Series,
    *,
    classifier: str = "logistic",
    C: float = 1.0,  # noqa: N803 - scikit-learn's name
    max_iter: int = 1000,
) -> CategoryEvaluation:
    r"""Leave-one-speaker-out evaluation of a categories classifier.

    For each speaker,
    trains a classifier
    as :func:`audemo.train_categories` does
    on the rows of all other speakers
    and predicts the rows of that speaker.
    The classifier never sees the test speaker,
    so the result estimates how well it works for new speakers.
    The main measure is the unweighted average recall (UAR),
    the mean of the recalls of the classes,
    for which guessing gives ``1 / number of classes``
    however unbalanced the classes are.

    ``labels`` and ``speakers`` are matched to the rows of ``embeddings``
    as in :func:`audemo.train_categories`.

    Args:
        embeddings: model embedding,
            as :class:`audemo.Emotion` with ``outputs="hidden_states"``
            returns it
        labels: category per file or segment
        speakers: speaker per file or segment,
            e.g. ``db["files"]["speaker"].get()``
        classifier: ``"logistic"`` or ``"svc"``
        C: inverse regularization strength
        max_iter: maximum number of iterations of the solver

    Returns:
        UAR, accuracy, confusion matrix and predictions

    Raises:
        ImportError: if scikit-learn is not installed
        TypeError: if an input has the wrong type
        ValueError: if the inputs cannot be matched,
            a labelled row has no speaker,
            there are fewer than two speakers or classes,
            or the other speakers of a fold have fewer than two classes

    Examples:
        >>> files = [f"{speaker}{i}.wav" for speaker in "abc" for i in range(2)]
        >>> embeddings = pd.DataFrame(
        ...     [[0.1, 0.9], [0.9, 0.2], [0.2, 0.8], [0.8, 0.3], [0.3, 0.9], [0.9, 0.1]],
        ...     index=audformat.filewise_index(files),
        ...     columns=["hidden_states-0", "hidden_states-1"],
        ... )
        >>> labels = pd.Series(["sad", "happy"] * 3, index=embeddings.index)
        >>> speakers = pd.Series([file[0] for file in files], index=embeddings.index)
        >>> evaluation = evaluate_categories(embeddings, labels, speakers)
        >>> evaluation
        CategoryEvaluation(uar=1.000, accuracy=1.000, classes=2, speakers=3)
        >>> evaluation.confusion
        prediction  happy  sad
        truth
        happy           3    0
        sad             0    3

    """  # noqa: E501
    features, targets = training_data(embeddings, labels)
    groups = align_labels(features.index, speakers, "speakers")
    if groups.isna().any():
        missing = features.index[groups.isna().to_numpy()]
        raise ValueError(
            f"{len(missing)} of {count(len(features), 'labelled row')} "
            f"{'has' if len(missing) == 1 else 'have'} no speaker, "
            f"e.g. {describe_entry(missing[0])}."
        )
    classes = check_classes(targets, "The labelled rows")
    folds = list(pd.unique(groups))
    if len(folds) < 2:
        raise ValueError(
            f"Leave-one-speaker-out needs at least 2 speakers, "
            f"the labelled rows have {len(folds)}."
        )
    predictions = pd.Series(index=features.index, dtype=object)
    for speaker in folds:
        test = (groups == speaker).to_numpy()
        check_classes(targets[~test], f"Without speaker {speaker!r} the training rows")
        model = fit_classifier(
            features[~test],
            targets[~test],
            classifier=classifier,
            C=C,
            max_iter=max_iter,
        )
        predictions[test] = model.predict(features[test])

    metrics = import_optional("sklearn.metrics", purpose="evaluating categories")
    truth = targets.to_numpy()
    predicted = predictions.to_numpy(dtype=str)
    matrix = metrics.confusion_matrix(truth, predicted, labels=classes)
    return CategoryEvaluation(
        uar=float(metrics.balanced_accuracy_score(truth, predicted)),
        accuracy=float(np.mean(truth == predicted)),
        confusion=pd.DataFrame(
            matrix,
            index=pd.Index(classes, name="truth"),
            columns=pd.Index(classes, name="prediction"),
        ),
        predictions=pd.DataFrame(
            {"speaker": groups, "truth": targets, "prediction": predicted},
            index=features.index,
        ),
    )
