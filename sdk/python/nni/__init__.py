"""Quader's `nni` module: the trial side of NNI 2.x, for experiments run by Quader.

Trial code written for NNI runs unchanged::

    import nni
    from nni.utils import merge_parameter

    params = merge_parameter(defaults, nni.get_next_parameter())
    ...
    nni.report_intermediate_result(acc)   # once per epoch
    nni.report_final_result(acc)          # once, at the end

Inside a Quader trial the module talks to the server's trial API (``QUADER_API_URL``,
``QUADER_TRIAL_TOKEN``). Without ``QUADER_API_URL`` it runs standalone, like NNI
outside an experiment: no parameters, results printed to stdout.

Pure standard library; Python 3.9+.
"""

from .trial import (
    TrialApiError,
    get_current_parameter,
    get_experiment_id,
    get_next_parameter,
    get_sequence_id,
    get_trial_id,
    report_final_result,
    report_intermediate_result,
)
from . import utils

__version__ = "2.10+quader"

__all__ = [
    "TrialApiError",
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
    "utils",
]
