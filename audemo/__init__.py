r"""Dimensional speech emotion recognition for audEERING's audio toolkit."""

from audemo import plot
from audemo import testing
from audemo.core.categorical import Categories
from audemo.core.categorical import CategoryEvaluation
from audemo.core.categorical import evaluate_categories
from audemo.core.categorical import save_categories
from audemo.core.categorical import train_categories
from audemo.core.compare import compare_precision
from audemo.core.database import to_database
from audemo.core.emotion import Emotion
from audemo.core.evaluation import METRICS
from audemo.core.evaluation import Evaluation
from audemo.core.evaluation import evaluate
from audemo.core.model import MODELS
from audemo.core.model import download_model
from audemo.core.model import load_model
from audemo.core.pipeline import load_pipeline
from audemo.core.report import write_report
from audemo.core.robustness import PERTURBATIONS
from audemo.core.robustness import RobustnessResult
from audemo.core.robustness import perturb
from audemo.core.robustness import robustness
from audemo.core.segment import VoiceActivity


__all__ = []


# from the core, so that core modules never import the package root
from audemo.core.utils import version as _version  # noqa: E402


__version__ = _version()
del _version
