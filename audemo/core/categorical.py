r"""Where pipeline YAML written before 0.x finds :class:`audemo.Categories`.

Stored pipelines name the class ``$audemo.core.categorical.Categories``;
it lives in :mod:`audemo.core.categories.categorical` now.
No module of audemo imports this one.
"""

from audemo.core.categories.categorical import Categories


__all__ = ["Categories"]
