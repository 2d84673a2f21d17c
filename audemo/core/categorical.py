r"""Categorical emotions: a linear classifier on the model's embedding."""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
import functools
import hashlib
import json
import os
import typing

import numpy as np
import onnx
import onnx.helper
import onnx.numpy_helper
import onnxruntime
import pandas as pd

import audeer
import audinterface
import audobject
import audonnx

from audemo.core.define import SAMPLING_RATE
from audemo.core.emotion import BORROWED_ARGUMENTS
from audemo.core.emotion import CHUNK_DUR
from audemo.core.emotion import RUNTIME_ARGUMENTS
from audemo.core.emotion import Emotion
from audemo.core.emotion import check_options
from audemo.core.emotion import deprecated_cache_root
from audemo.core.model import MODEL_FILE
from audemo.core.model import YAML_FILE
from audemo.core.model import small_session
from audemo.core.process import Failure
from audemo.core.resolver import ModelResolver
from audemo.core.utils import count


if typing.TYPE_CHECKING:  # pragma: no cover - scikit-learn is an extra
    import sklearn.pipeline


CLASSIFIERS = ("logistic", "svc")
r"""Classifiers of :func:`audemo.train_categories`."""

HEAD_INPUT = "hidden_states"
r"""Input node of a categories head: the model's embedding."""

HEAD_OUTPUTS = {"logistic": "probabilities", "svc": "scores"}
r"""Output node of a categories head per classifier."""

EMBEDDING_PREFIX = "hidden_states-"

# a head is a few hundred kilobytes: a larger model.onnx is not one
_MAX_HEAD_BYTES = 64 * 1024 * 1024
_HEAD_FILES = {MODEL_FILE, YAML_FILE, MODEL_FILE + ".tmp"}

_METADATA_CLASSES = "audemo.classes"
_METADATA_CLASSIFIER = "audemo.classifier"
_OPSET = 17


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
    features, targets = _training_data(embeddings, labels)
    _check_classes(targets, "The labelled rows")
    return _fit(features, targets, classifier=classifier, C=C, max_iter=max_iter)


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
    features, targets = _training_data(embeddings, labels)
    groups = _align(features.index, speakers, "speakers")
    if groups.isna().any():
        missing = features.index[groups.isna().to_numpy()]
        raise ValueError(
            f"{len(missing)} of {count(len(features), 'labelled row')} "
            f"{'has' if len(missing) == 1 else 'have'} no speaker, "
            f"e.g. {_entry(missing[0])}."
        )
    classes = _check_classes(targets, "The labelled rows")
    folds = list(pd.unique(groups))
    if len(folds) < 2:
        raise ValueError(
            f"Leave-one-speaker-out needs at least 2 speakers, "
            f"the labelled rows have {len(folds)}."
        )
    predictions = pd.Series(index=features.index, dtype=object)
    for speaker in folds:
        test = (groups == speaker).to_numpy()
        _check_classes(targets[~test], f"Without speaker {speaker!r} the training rows")
        model = _fit(
            features[~test],
            targets[~test],
            classifier=classifier,
            C=C,
            max_iter=max_iter,
        )
        predictions[test] = model.predict(features[test])

    from sklearn.metrics import balanced_accuracy_score
    from sklearn.metrics import confusion_matrix

    truth = targets.to_numpy()
    predicted = predictions.to_numpy(dtype=str)
    matrix = confusion_matrix(truth, predicted, labels=classes)
    return CategoryEvaluation(
        uar=float(balanced_accuracy_score(truth, predicted)),
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


def save_categories(
    classifier: sklearn.pipeline.Pipeline,
    root: str,
    *,
    overwrite: bool = False,
) -> str:
    r"""Save a categories classifier as an ONNX model folder.

    Writes the classifier from :func:`audemo.train_categories`
    as an :mod:`audonnx` model folder
    (``model.onnx`` + ``model.yaml``)
    that :class:`audemo.Categories` runs on the emotion model's embedding.
    The ONNX graph
    takes the input ``hidden_states``
    (float32 ``[batch, D]``),
    standardizes it,
    multiplies it with the classifier's weights,
    adds the bias
    and, for ``"logistic"``,
    applies the softmax function.
    Its output is ``probabilities`` (``"logistic"``)
    or ``scores`` (``"svc"``),
    one column per class.
    The numbers are those of the classifier's
    ``predict_proba()`` or ``decision_function()``
    up to float32 precision.
    With two classes
    ``"svc"`` gives the score of the second class
    and its negative for the first,
    so that the larger score is the predicted class.

    An ONNX file is data, not code:
    unlike a pickled scikit-learn object,
    loading it cannot execute anything,
    and it needs neither scikit-learn
    nor the version that trained the classifier.

    Args:
        classifier: fitted pipeline from :func:`audemo.train_categories`
        root: folder to write to (created if needed;
            an existing head there is replaced)
        overwrite: write into a folder that holds something else
            (e.g. an emotion model):
            its ``model.onnx`` and ``model.yaml`` are replaced,
            other files stay

    Returns:
        the model folder

    Raises:
        ValueError: if ``classifier`` is not a fitted pipeline
            from :func:`audemo.train_categories`,
            ``root`` is a file,
            or ``root`` holds something other than a head
            and ``overwrite`` is ``False``

    Examples:
        >>> embeddings = pd.DataFrame(
        ...     [[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.8, 0.3]],
        ...     columns=["hidden_states-0", "hidden_states-1"],
        ...     index=audformat.filewise_index(["a.wav", "b.wav", "c.wav", "d.wav"]),
        ... )
        >>> labels = pd.Series(["sad", "sad", "happy", "happy"], index=embeddings.index)
        >>> root = save_categories(train_categories(embeddings, labels), "head")
        >>> sorted(os.listdir(root))
        ['model.onnx', 'model.yaml']
        >>> head = audonnx.load(root)
        >>> head(np.array([0.1, 0.9], dtype=np.float32)).round(2)
        array([[0.16, 0.84]], dtype=float32)
        >>> head.outputs["probabilities"].labels
        ['happy', 'sad']

    """  # noqa: E501
    kind, mean, scale, weights, bias, classes = _linear_parts(classifier)
    check_head_root(root, overwrite=overwrite)
    root = audeer.mkdir(root)
    output = HEAD_OUTPUTS[kind]
    proto = _head_proto(kind, mean, scale, weights, bias, classes)
    path = os.path.join(root, MODEL_FILE)
    # a reader never sees a half-written file with the old fingerprint's name
    temporary = path + ".tmp"
    onnx.save(proto, temporary)
    os.replace(temporary, path)
    audonnx.Model(path, labels={output: classes}).to_yaml(os.path.join(root, YAML_FILE))
    return root


def check_head_root(
    root: str,
    *,
    overwrite: bool = False,
    model_root: str | None = None,
    names: tuple[str, str] = ("root", "overwrite=True"),
):
    r"""Refuse a head folder where writing the head would destroy something.

    A head can go into a new or empty folder
    or replace a head there.
    A folder with anything else
    (an emotion model's ``model.onnx``, other files)
    needs ``overwrite``;
    the folder of the model in use is refused even then.

    Args:
        root: folder of the head
        overwrite: allow a folder that holds something else
        model_root: folder of the emotion model in use
        names: how the caller names ``root`` and ``overwrite`` in messages

    Raises:
        ValueError: if ``root`` is a file,
            the folder of ``model_root``,
            or holds something other than a head
            and ``overwrite`` is ``False``

    """
    where, flag = names
    if os.path.exists(root) and not os.path.isdir(root):
        raise ValueError(
            f"{where} '{root}' is a file: the head needs a folder of its own."
        )
    if not os.path.isdir(root):
        return
    if model_root is not None and _same_model(root, model_root):
        raise ValueError(
            f"{where} '{root}' is the folder of the emotion model in use: "
            f"the head would overwrite it. Choose another folder."
        )
    present = set(os.listdir(root))
    if overwrite or not present:
        return
    if present <= _HEAD_FILES and _is_head(os.path.join(root, MODEL_FILE)):
        return  # a previous head is replaced
    what = (
        f"a {MODEL_FILE} that is not a categories head (an emotion model?)"
        if MODEL_FILE in present
        else f"files that are not a categories head (e.g. {sorted(present)[0]})"
    )
    raise ValueError(
        f"{where} '{root}' holds {what}: choose a new or empty folder, "
        f"or add {flag} to write the head's {MODEL_FILE} and {YAML_FILE} into it."
    )


def _same_model(root: str, model_root: str) -> bool:
    r"""Whether ``root`` is ``model_root`` or shares its model file."""
    model = os.path.join(model_root, MODEL_FILE)
    head = os.path.join(root, MODEL_FILE)
    return os.path.samefile(root, model_root) or (
        os.path.exists(model) and os.path.exists(head) and os.path.samefile(model, head)
    )


def _is_head(path: str) -> bool:
    if not os.path.isfile(path) or os.path.getsize(path) > _MAX_HEAD_BYTES:
        return False
    with open(path, "rb") as fp:
        data = fp.read()
    try:
        _head_info(data, path)
    except ValueError:
        return False
    return True


class Categories(Emotion):
    r"""Emotion categories from the model's embedding and a trained head.

    Runs the emotion model
    to get its embedding (``hidden_states``)
    and a head trained with :func:`audemo.train_categories`
    and saved with :func:`audemo.save_categories`
    on it.
    The columns are the class names:
    probabilities (``"logistic"``, each row sums to 1)
    or scores (``"svc"``).
    The predicted category is the column with the largest value,
    ``frame.idxmax(axis=1)``.

    Everything else is as in :class:`audemo.Emotion`
    (signals, files, folders and indices,
    windows, segments, chunking, errors, caching, workers):
    each row is the head applied to the embedding
    that ``Emotion(outputs="hidden_states")`` gives for that row,
    from one model run.

    :meth:`to_yaml` writes
    the emotion model reference and its fingerprint,
    the head folder relative to the YAML file
    and the head's fingerprint (SHA256 of its ``model.onnx``).
    Move the YAML file together with the head folder,
    and load it with :func:`audemo.load_pipeline`
    or :func:`audobject.from_yaml`;
    a head or model with a different fingerprint is refused.
    The runtime settings
    ``model_cache_root``, ``device``, ``num_workers``, ``num_threads``,
    ``multiprocessing`` and ``verbose``
    are not serialized.

    Args:
        head: folder written by :func:`audemo.save_categories`
        model: emotion model reference,
            see :class:`audemo.Emotion`;
            the model whose embedding the head was trained on
        fingerprint: expected SHA256 of the emotion model,
            see :class:`audemo.Emotion`
        head_fingerprint: expected SHA256 of the head's ``model.onnx``;
            ``None`` accepts the head as it is
            and records its fingerprint
        precision: see :class:`audemo.Emotion`
        win_dur: see :class:`audemo.Emotion`
        hop_dur: see :class:`audemo.Emotion`
        chunk_dur: see :class:`audemo.Emotion`
        sampling_rate: see :class:`audemo.Emotion`
        resample: see :class:`audemo.Emotion`
        channels: see :class:`audemo.Emotion`
        mixdown: see :class:`audemo.Emotion`
        segment: see :class:`audemo.Emotion`
        errors: see :class:`audemo.Emotion`
        model_cache_root: see :class:`audemo.Emotion`
        device: see :class:`audemo.Emotion`
            (the head always runs on the CPU)
        num_workers: see :class:`audemo.Emotion`
        num_threads: see :class:`audemo.Emotion`
        multiprocessing: see :class:`audemo.Emotion`
        verbose: see :class:`audemo.Emotion`
        cache_root: deprecated name of ``model_cache_root``
            (a :class:`FutureWarning` says so)

    Raises:
        FileNotFoundError: if ``head`` has no ``model.onnx``
        ValueError: if ``head`` is not a head saved by
            :func:`audemo.save_categories`,
            its input size differs from the model's embedding,
            or another argument has an invalid value
        RuntimeError: if a fingerprint differs
            or the model cannot be obtained

    Examples:
        A head trained on two files
        and the small test model
        (:func:`audemo.testing.create_model`):
        its numbers are **not** emotions.

        >>> model = audemo.testing.create_model("model")
        >>> signal, sampling_rate = audiofile.read("speech.wav")
        >>> audiofile.write("loud.wav", signal, sampling_rate)
        >>> audiofile.write("quiet.wav", 0.1 * signal, sampling_rate)
        >>> files = audformat.filewise_index(["loud.wav", "quiet.wav"])
        >>> embeddings = Emotion(model, outputs="hidden_states").process_index(
        ...     files, preserve_index=True
        ... )
        >>> labels = pd.Series(["loud", "quiet"], index=files)
        >>> head = save_categories(train_categories(embeddings, labels), "head")
        >>> interface = Categories(head, model=model)
        >>> probabilities = interface.process_index(files, preserve_index=True)
        >>> probabilities.round(2)
                   loud  quiet
        file
        loud.wav   0.95   0.05
        quiet.wav  0.05   0.95
        >>> probabilities.idxmax(axis=1).tolist()
        ['loud', 'quiet']

    """

    @audobject.init_decorator(
        borrow=BORROWED_ARGUMENTS,
        hide=list(RUNTIME_ARGUMENTS),
        resolvers={"model": ModelResolver, "head": audobject.resolver.FilePath},
    )
    def __init__(
        self,
        head: str,
        *,
        model: str | None = None,
        fingerprint: str | None = None,
        head_fingerprint: str | None = None,
        precision: str = "fp32",
        win_dur: float | None = None,
        hop_dur: float | None = None,
        chunk_dur: float | None = CHUNK_DUR,
        sampling_rate: int = SAMPLING_RATE,
        resample: bool = True,
        channels: int | Sequence[int] = 0,
        mixdown: bool = False,
        segment: audinterface.Segment | None = None,
        errors: str = "raise",
        model_cache_root: str | None = None,
        device: str = "cpu",
        num_workers: int | None = 1,
        num_threads: int | None = None,
        multiprocessing: bool = False,
        verbose: bool = False,
        cache_root: str | None = None,
    ):
        model_cache_root = deprecated_cache_root(self, cache_root, model_cache_root)
        # before the head and the model are read
        check_options(
            win_dur=win_dur,
            hop_dur=hop_dur,
            chunk_dur=chunk_dur,
            num_workers=num_workers,
            num_threads=num_threads,
        )
        head = audeer.path(head)
        path = os.path.join(head, MODEL_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"No categories head in '{head}': it has no {MODEL_FILE} "
                f"(save one with audemo.save_categories())."
            )
        with open(path, "rb") as fp:
            data = fp.read()
        # heads are small: hash the bytes every time, no cached stamp to trust
        actual = hashlib.sha256(data).hexdigest()
        if head_fingerprint is not None and head_fingerprint != actual:
            raise RuntimeError(
                f"The categories head in '{head}' has fingerprint {actual}, "
                f"but this pipeline expects {head_fingerprint}: "
                f"the head was changed or replaced. Use the head the pipeline "
                f"was made with, or pass head_fingerprint=None to accept this one."
            )
        classes, kind, size = _head_info(data, path)

        super().__init__(
            model,
            outputs="hidden_states",
            precision=precision,
            fingerprint=fingerprint,
            win_dur=win_dur,
            hop_dur=hop_dur,
            chunk_dur=chunk_dur,
            sampling_rate=sampling_rate,
            resample=resample,
            channels=channels,
            mixdown=mixdown,
            segment=segment,
            errors=errors,
            model_cache_root=model_cache_root,
            device=device,
            num_workers=num_workers,
            num_threads=num_threads,
            multiprocessing=multiprocessing,
            verbose=verbose,
        )
        embedding_size = len(self.column_names)
        if size != embedding_size:
            raise ValueError(
                f"The categories head in '{head}' takes embeddings of size "
                f"{size}, but the model '{self.model}' gives {embedding_size}: "
                f"the head was trained on another model's embedding."
            )

        self.head = head
        r"""Folder of the categories head."""
        self.head_fingerprint = actual
        r"""SHA256 of the head's ``model.onnx``."""

        # Emotion named the columns after the embedding;
        # the rows audemo returns are the head's outputs
        self.column_names = pd.Index(classes)
        self.feature_names = list(classes)
        self.num_features = len(classes)
        self._head_output = HEAD_OUTPUTS[kind]

    @property
    def classes(self) -> list[str]:
        r"""Class names, the columns of the results."""
        return list(self.column_names)

    @property
    def output(self) -> str:
        r"""``"probabilities"`` (logistic regression) or ``"scores"`` (SVM)."""
        return self._head_output

    def cache_key(self) -> str:
        r"""Hash of everything that determines the numbers.

        The key of :meth:`audemo.Emotion.cache_key`
        combined with the head's fingerprint.

        Returns:
            16 hexadecimal characters

        Raises:
            ValueError: if ``segment`` is not an :class:`audobject.Object`

        """
        text = f"{super().cache_key()} categories {self.head_fingerprint}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __call__(self, signal: np.ndarray, sampling_rate: int) -> np.ndarray:
        r"""Class probabilities or scores of a signal.

        Args:
            signal: signal values
            sampling_rate: sampling rate in Hz

        Returns:
            array of shape ``(1, number of classes, 1)``

        """
        embedding = self.process(signal, sampling_rate)
        return self._reshape_3d(self._run_head([embedding])[0])

    def _series_to_frame(self, y: pd.Series) -> pd.DataFrame:
        # the embedding of each row is complete here, after chunks were
        # combined, so the head sees exactly Emotion's embedding
        embeddings = [value for value in y if not isinstance(value, Failure)]
        if embeddings:
            outputs = iter(self._run_head(embeddings))
            y = pd.Series(
                [value if isinstance(value, Failure) else next(outputs) for value in y],
                index=y.index,
                dtype=object,
            )
        return super()._series_to_frame(y)

    def _run_head(self, embeddings: list[np.ndarray]) -> np.ndarray:
        session = _head_session(
            os.path.join(self.head, MODEL_FILE), self.head_fingerprint, os.getpid()
        )
        batch = np.stack([np.asarray(value).reshape(-1) for value in embeddings])
        (outputs,) = session.run(
            [self._head_output], {HEAD_INPUT: batch.astype(np.float32)}
        )
        return outputs


@functools.lru_cache(maxsize=8)
def _head_session(
    path: str,
    fingerprint: str,
    pid: int,
) -> onnxruntime.InferenceSession:
    # Categories objects hold no session, so they pickle for worker processes.
    # The session is built from the very bytes that were hashed: each process
    # runs the head the pipeline was checked against, or refuses
    with open(path, "rb") as fp:
        data = fp.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != fingerprint:
        raise RuntimeError(
            f"The categories head '{path}' changed after the pipeline was "
            f"created: fingerprint {actual} instead of {fingerprint}."
        )
    return small_session(data)


def _head_info(data: bytes, path: str) -> tuple[list[str], str, int]:
    r"""Class names, classifier and input size of a head."""
    try:
        session = small_session(data)
    except Exception as ex:  # onnxruntime raises its own exception types
        raise ValueError(f"Cannot open the categories head '{path}': {ex}") from ex
    metadata = session.get_modelmeta().custom_metadata_map
    inputs = session.get_inputs()
    try:
        classes = json.loads(metadata[_METADATA_CLASSES])
        kind = metadata[_METADATA_CLASSIFIER]
        output = HEAD_OUTPUTS[kind]
        size = inputs[0].shape[-1]
        outputs = session.get_outputs()
        valid = (
            len(inputs) == 1
            and inputs[0].name == HEAD_INPUT
            and isinstance(size, int)
            and [node.name for node in outputs] == [output]
            and isinstance(classes, list)
            and all(isinstance(name, str) for name in classes)
            and outputs[0].shape[-1] == len(classes)
        )
    except (KeyError, ValueError, IndexError):
        valid = False
    if not valid:
        raise ValueError(
            f"'{path}' is not a categories head: "
            f"save one with audemo.save_categories()."
        )
    return classes, kind, size


def _linear_parts(classifier: sklearn.pipeline.Pipeline) -> tuple:
    r"""Scaler and linear classifier of a pipeline, as float64 arrays."""
    steps = getattr(classifier, "steps", None) or []
    scaler, linear = [step[1] for step in steps] if len(steps) == 2 else (None, None)
    kind = {"LogisticRegression": "logistic", "LinearSVC": "svc"}.get(
        type(linear).__name__
    )
    if (
        type(scaler).__name__ != "StandardScaler"
        or kind is None
        or not hasattr(linear, "coef_")
    ):
        raise ValueError(
            "Only a fitted classifier from audemo.train_categories() can be saved: "
            "a scikit-learn pipeline of StandardScaler and "
            "LogisticRegression or LinearSVC."
        )
    names = getattr(scaler, "feature_names_in_", None)
    size = len(scaler.mean_)
    if names is not None and list(names) != _embedding_names(size):
        raise ValueError(
            "The classifier was trained on other columns than the model's "
            "embedding (hidden_states-0, hidden_states-1, ...)."
        )
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    scale = (
        np.ones(size) if scaler.scale_ is None else np.asarray(scaler.scale_)
    ).astype(np.float64)
    weights = np.asarray(linear.coef_, dtype=np.float64)
    bias = np.asarray(linear.intercept_, dtype=np.float64).reshape(-1)
    classes = [str(name) for name in linear.classes_]
    if len(classes) == 2 and len(weights) == 1:
        # scikit-learn keeps one row for two classes: the second class's
        # logit (probability = sigmoid = softmax of [0, logit]) or score
        other = np.zeros_like if kind == "logistic" else np.negative
        weights = np.concatenate([other(weights), weights])
        bias = np.concatenate([other(bias), bias])
    return kind, mean, scale, weights, bias, classes


def _head_proto(
    kind: str,
    mean: np.ndarray,
    scale: np.ndarray,
    weights: np.ndarray,
    bias: np.ndarray,
    classes: list[str],
) -> onnx.ModelProto:
    output = HEAD_OUTPUTS[kind]

    def constant(name, value):
        return onnx.numpy_helper.from_array(
            np.asarray(value, dtype=np.float32), name=name
        )

    make = onnx.helper.make_node
    linear = "scores" if kind == "svc" else "logits"
    nodes = [
        make("Sub", [HEAD_INPUT, "mean"], ["centred"]),
        make("Div", ["centred", "scale"], ["standardized"]),
        make("MatMul", ["standardized", "weights"], ["product"]),
        make("Add", ["product", "bias"], [linear]),
    ]
    if kind == "logistic":
        nodes.append(make("Softmax", [linear], [output], axis=-1))
    graph = onnx.helper.make_graph(
        nodes,
        "audemo-categories",
        [
            onnx.helper.make_tensor_value_info(
                HEAD_INPUT, onnx.TensorProto.FLOAT, ["batch", len(mean)]
            )
        ],
        [
            onnx.helper.make_tensor_value_info(
                output, onnx.TensorProto.FLOAT, ["batch", len(classes)]
            )
        ],
        initializer=[
            constant("mean", mean),
            constant("scale", scale),
            constant("weights", weights.T),
            constant("bias", bias),
        ],
    )
    proto = onnx.helper.make_model(
        graph,
        producer_name="audemo.save_categories",
        opset_imports=[onnx.helper.make_opsetid("", _OPSET)],
        doc_string=(
            f"Emotion categories ({kind}) from the emotion model's embedding: "
            f"{', '.join(classes)}"
        ),
    )
    proto.ir_version = 8
    onnx.helper.set_model_props(
        proto,
        {_METADATA_CLASSES: json.dumps(classes), _METADATA_CLASSIFIER: kind},
    )
    onnx.checker.check_model(proto)
    return proto


def _fit(
    features: pd.DataFrame,
    targets: pd.Series,
    *,
    classifier: str,
    C: float,  # noqa: N803
    max_iter: int,
) -> sklearn.pipeline.Pipeline:
    if classifier not in CLASSIFIERS:
        raise ValueError(
            f"classifier must be one of {CLASSIFIERS}, not {classifier!r}."
        )
    if not C > 0:
        raise ValueError(f"C must be positive, not {C}.")
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC
    except ImportError as ex:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Training categories needs scikit-learn: pip install 'audemo[evaluation]'"
        ) from ex
    if classifier == "logistic":
        linear = LogisticRegression(C=C, class_weight="balanced", max_iter=max_iter)
    else:
        # dual="auto" is the default from scikit-learn 1.5 on: the same
        # solver with every version audemo allows
        linear = LinearSVC(
            C=C,
            class_weight="balanced",
            dual="auto",
            max_iter=max_iter,
            random_state=0,
        )
    return make_pipeline(StandardScaler(), linear).fit(features, targets)


def _training_data(
    embeddings: pd.DataFrame, labels: pd.Series
) -> tuple[pd.DataFrame, pd.Series]:
    if not isinstance(embeddings, pd.DataFrame):
        raise TypeError(
            f"embeddings must be a pandas DataFrame, not {type(embeddings).__name__}."
        )
    columns = [
        column
        for column in embeddings.columns
        if isinstance(column, str) and column.startswith(EMBEDDING_PREFIX)
    ]
    if columns != _embedding_names(len(columns)) or not columns:
        raise ValueError(
            "embeddings must have the columns hidden_states-0, hidden_states-1, ... "
            "in this order, as audemo.Emotion(outputs='hidden_states') "
            "returns them."
        )
    features = embeddings[columns]
    targets = _align(features.index, labels, "labels")
    labelled = targets.notna().to_numpy()
    if not labelled.any():
        example = labels.index[0] if len(labels) else "none"
        raise ValueError(
            f"No row of the embeddings has a label: do the file paths match? "
            f"E.g. embeddings {_entry(features.index[0])}, "
            f"labels {_entry(example)}."
        )
    features = features[labelled].astype(np.float64)
    targets = targets[labelled].astype(str)
    failed = features.isna().any(axis=1).to_numpy()
    if failed.any():
        raise ValueError(
            f"{count(int(failed.sum()), 'labelled row')} "
            f"{'has' if failed.sum() == 1 else 'have'} NaN embeddings "
            f"(inputs that failed with errors='coerce'), "
            f"e.g. {_entry(features.index[failed][0])}: "
            f"leave them out, e.g. with embeddings.dropna()."
        )
    return features, targets


def _align(index: pd.Index, values: pd.Series, what: str) -> pd.Series:
    r"""Values for the rows of ``index``, NaN where there is none."""
    if not isinstance(values, pd.Series):
        raise TypeError(f"{what} must be a pandas Series, not {type(values).__name__}.")
    values = values[values.notna()]
    if values.index.has_duplicates:
        duplicate = values.index[values.index.duplicated()][0]
        raise ValueError(f"{what} have several entries for {_entry(duplicate)}.")
    names = list(index.names)
    if list(values.index.names) == ["file", "start", "end"] and _whole_files(
        values.index
    ):
        values = values.set_axis(values.index.get_level_values("file"))
    if list(values.index.names) == ["file"] and "file" in names:
        files = index.get_level_values("file")
        if len(names) > 1 and files.has_duplicates:
            duplicate = files[files.duplicated()][0]
            raise ValueError(
                f"{what} are given per file, but the embeddings have several "
                f"rows (segments or windows) for '{duplicate}': it is ambiguous "
                f"which to use. Give {what} per segment, or process whole files "
                f"(no segment or win_dur)."
            )
        aligned = values.reindex(files)
    elif list(values.index.names) == names:
        aligned = values.reindex(index)
    else:
        raise ValueError(
            f"Cannot match {what} (index levels {list(values.index.names)}) "
            f"to the embeddings (index levels {names}): "
            f"give {what} per file or with the index of the embeddings."
        )
    return pd.Series(aligned.to_numpy(), index=index, name=values.name)


def _whole_files(index: pd.MultiIndex) -> bool:
    starts = index.get_level_values("start")
    ends = index.get_level_values("end")
    return bool(((starts == pd.Timedelta(0)) & ends.isna()).all())


def _check_classes(targets: pd.Series, where: str) -> list[str]:
    classes = sorted(targets.unique())
    if len(classes) < 2:
        raise ValueError(
            f"{where} have {count(len(classes), 'class', 'classes')} "
            f"({', '.join(classes)}): "
            f"a classifier needs at least 2."
        )
    return classes


def _embedding_names(size: int) -> list[str]:
    return [f"{EMBEDDING_PREFIX}{i}" for i in range(size)]


def _entry(key: object) -> str:
    return repr(key[0] if isinstance(key, tuple) and len(key) == 1 else key)
