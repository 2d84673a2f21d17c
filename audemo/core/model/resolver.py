r"""Serialization of model references in pipeline YAML files."""

import os

import audeer
import audobject

from audemo.core.model.registry import MODELS
from audemo.core.model.registry import is_download
from audemo.core.model.registry import is_url


class ModelResolver(audobject.resolver.Base):
    r"""Resolver for model references.

    Registered names and URLs are written as they are;
    a model folder is written relative to the YAML file
    and expanded again when the YAML file is read,
    also when it is named like a registered model
    (see :func:`audemo.core.model.registry.is_download`).
    A model read from a YAML file is opened like any other:
    its folder is checked by :func:`audemo.core.model.folder.read_model_folder`,
    so a pipeline cannot make audemo run code from a model folder.

    Examples:
        >>> resolver = ModelResolver()
        >>> resolver.encode("w2v2-L-robust-12")
        'w2v2-L-robust-12'

    """

    def decode(self, value: str) -> str:
        r"""Expand a folder relative to the YAML file."""
        if not isinstance(value, str):
            raise ValueError(
                f"A model reference in a YAML file must be a string, "
                f"not {type(value).__name__}: {str(value)[:100]}"
            )
        if self.root is None or is_download(value, root=self.root):
            return value
        return audeer.path(os.path.join(self.root, value))

    def encode(self, value: str) -> str:
        r"""Turn a folder into a path relative to the YAML file."""
        if self.root is None or _is_remote(value):
            return value
        return os.path.relpath(value, self.root)

    def encode_type(self) -> type:
        r"""Return encoded type."""
        return str


def _is_remote(value: str) -> bool:
    # an interface's model is resolved: a folder is an absolute path
    return value in MODELS or is_url(value)
