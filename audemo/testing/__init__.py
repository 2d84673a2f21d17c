r"""Small models with the interface of the emotion model, for tests."""

from audemo.core.testing import create_model
