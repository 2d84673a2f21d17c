r"""Categories: emotion categories from the embedding and a trained head.

The class is defined here, as pipelines name it
(``$audemo.core.categories.categorical.Categories``);
the pieces around it live in modules of their own:

* :mod:`audemo.core.categories.training`: :func:`audemo.train_categories`
* :mod:`audemo.core.categories.evaluation`: :func:`audemo.evaluate_categories`
* :mod:`audemo.core.categories.export`: :func:`audemo.save_categories`
* :mod:`audemo.core.categories.head`: reading a head, its session
* :mod:`audemo.core.categories.alignment`: labels matched to embeddings

"""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
import os

import numpy as np
import pandas as pd

import audinterface
import audobject

from audemo.core.categories.head import HEAD_INPUT
from audemo.core.categories.head import head_session
from audemo.core.categories.head import read_head
from audemo.core.define import CHUNK_DUR
from audemo.core.define import SAMPLING_RATE
from audemo.core.emotion import Emotion
from audemo.core.model.api import MODEL_FILE
from audemo.core.model.resolver import ModelResolver
from audemo.core.options import check_options
from audemo.core.options import deprecated_cache_root
from audemo.core.options import interface_init
from audemo.core.process import Failure


__all__ = ["Categories"]


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
    ``multiprocessing``, ``share_weights`` and ``verbose``
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
        share_weights: see :class:`audemo.Emotion`
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
        >>> categories = audemo.train_categories(embeddings, labels)
        >>> head = audemo.save_categories(categories, "head")
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

    @interface_init(model=ModelResolver, head=audobject.resolver.FilePath)
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
        share_weights: bool = True,
        verbose: bool = False,
        cache_root: str | None = None,
    ):
        model_cache_root = deprecated_cache_root(self, cache_root, model_cache_root)
        options = {
            "precision": precision,
            "fingerprint": fingerprint,
            "win_dur": win_dur,
            "hop_dur": hop_dur,
            "chunk_dur": chunk_dur,
            "sampling_rate": sampling_rate,
            "channels": channels,
            "mixdown": mixdown,
            "errors": errors,
            "device": device,
            "num_workers": num_workers,
            "num_threads": num_threads,
        }
        # before the head and the model are read
        check_options(**options)
        read = read_head(head, head_fingerprint)
        super().__init__(
            model,
            outputs="hidden_states",
            resample=resample,
            segment=segment,
            model_cache_root=model_cache_root,
            multiprocessing=multiprocessing,
            share_weights=share_weights,
            verbose=verbose,
            **options,
        )
        embedding_size = len(self.column_names)
        if read.size != embedding_size:
            raise ValueError(
                f"The categories head in '{read.root}' takes embeddings of size "
                f"{read.size}, but the model '{self.model}' gives {embedding_size}: "
                f"the head was trained on another model's embedding."
            )

        self.head = read.root
        r"""Folder of the categories head."""
        self.head_fingerprint = read.fingerprint
        r"""SHA256 of the head's ``model.onnx``."""

        # Emotion named the columns after the embedding;
        # the rows audemo returns are the head's outputs
        self.column_names = pd.Index(read.classes)
        self.feature_names = list(read.classes)
        self.num_features = len(read.classes)
        self._head_output = read.output

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
        return self._features_3d(self._run_head([embedding])[0])

    def _results_to_frame(self, y: pd.Series) -> pd.DataFrame:
        r"""Data frame of the results, with the head run on each embedding.

        Args:
            y: embeddings (or failures), one per segment

        Returns:
            data frame with the categories as columns

        """
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
        return super()._results_to_frame(y)

    def _run_head(self, embeddings: list[np.ndarray]) -> np.ndarray:
        session = head_session(
            os.path.join(self.head, MODEL_FILE), self.head_fingerprint, os.getpid()
        )
        batch = np.stack([np.asarray(value).reshape(-1) for value in embeddings])
        (outputs,) = session.run(
            [self._head_output], {HEAD_INPUT: batch.astype(np.float32)}
        )
        return outputs
