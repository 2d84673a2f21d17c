r"""Dimensional speech emotion recognition for audEERING's audio toolkit."""

from audemo import plot
from audemo import testing
from audemo.core.calibration import Calibration
from audemo.core.categorical import Categories
from audemo.core.categories_evaluation import CategoryEvaluation
from audemo.core.categories_evaluation import evaluate_categories
from audemo.core.categories_export import save_categories
from audemo.core.categories_training import train_categories
from audemo.core.compare import compare_precision
from audemo.core.conversation import normalize_per_speaker
from audemo.core.conversation import process_turns
from audemo.core.conversation import speaker_summary
from audemo.core.database import to_database
from audemo.core.diarization import Diarization
from audemo.core.emotion import Emotion
from audemo.core.evaluation import METRICS
from audemo.core.evaluation import Evaluation
from audemo.core.evaluation import ScaleWarning
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
from audemo.core.stream import Stream
from audemo.core.transcript import assign_speakers
from audemo.core.transcript import process_transcript
from audemo.core.transcript import read_transcript
from audemo.core.transcription import Transcription
from audemo.core.turns import check_turns
from audemo.core.turns import exclude_overlap
from audemo.core.turns import overlap_mask
from audemo.core.turns import read_rttm
from audemo.core.turns import turns_from_annotation


__all__ = []


# from the core, so that core modules never import the package root
from audemo.core.utils import version as _version  # noqa: E402


__version__ = _version()
del _version
