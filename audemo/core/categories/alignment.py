r"""Labels matched to the rows of embeddings.

Labels and speakers come per file or per segment,
e.g. as a column of an audformat table;
embeddings come as :class:`audemo.Emotion` returns them.
:func:`align_labels` matches them, or refuses what is ambiguous.

"""

from __future__ import annotations

import pandas as pd

from audemo.core.index import is_whole_files


def align_labels(index: pd.Index, values: pd.Series, what: str) -> pd.Series:
    r"""Values for the rows of ``index``, NaN where there is none.

    * same index type: entry by entry
    * values per file (or segments from 0 to ``NaT``, i.e. whole files)
      and a segmented ``index``: by file,
      if ``index`` has one row per file
    * anything else is refused as ambiguous

    Args:
        index: index of the embeddings
        values: labels or speakers
        what: name of ``values`` in messages

    Returns:
        one value per row of ``index``

    Raises:
        TypeError: if ``values`` is not a series
        ValueError: if ``values`` cannot be matched unambiguously

    Examples:
        >>> index = audformat.segmented_index(["a.wav", "b.wav"], [0, 0], [1, 1])
        >>> labels = pd.Series(["sad"], index=audformat.filewise_index(["a.wav"]))
        >>> align_labels(index, labels, "labels").tolist()
        ['sad', nan]

    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"{what} must be a pandas Series, not {type(values).__name__}.")
    values = values[values.notna()]
    if values.index.has_duplicates:
        duplicate = values.index[values.index.duplicated()][0]
        raise ValueError(
            f"{what} have several entries for {describe_entry(duplicate)}."
        )
    names = list(index.names)
    if list(values.index.names) == ["file", "start", "end"] and is_whole_files(
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


def describe_entry(key: object) -> str:
    r"""An index entry as messages show it: a file, or a tuple.

    Args:
        key: entry of an index

    Returns:
        representation

    Examples:
        >>> describe_entry(("a.wav",))
        "'a.wav'"

    """
    return repr(key[0] if isinstance(key, tuple) and len(key) == 1 else key)
