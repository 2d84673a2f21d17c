r"""Small models with the interface of the emotion model, and speech, for tests."""

from audemo.core.testing import create_model
from audemo.core.testing import speech_file
