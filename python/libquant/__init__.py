"""libquant: compress large language models (GGUF, importance matrices, SmoothQuant, LittleBit).

The jobs take the options of the matching ``llm-quantize`` command as keyword
arguments and return its JSON record (``--format json``) as a dict; failures
raise a :class:`libquant.Error` subclass whose ``code`` is the CLI's exit
code. Jobs release the GIL while they run and stop on Ctrl-C
(``KeyboardInterrupt``), leaving nothing at their output path.

See docs/python.md for a walk-through.
"""
from __future__ import annotations

import logging as _logging

from . import _core
from . import gguf
from ._core import (
    ImportanceMatrix,
    analyze,
    info,
    littlebit_compress,
    perplexity,
    quantize_gguf,
    set_verbosity,
    smoothquant,
)
from .errors import Error, ExitCode
from . import errors
from .errors import *  # noqa: F401,F403  (the Error subclasses, one per exit code)

__version__: str = _core.__version__

_LEVELS = {0: _logging.INFO, 1: _logging.WARNING, 2: _logging.DEBUG, 3: _logging.DEBUG}
logger = _logging.getLogger("libquant")


def _to_logging(level: int, message: str) -> None:
    logger.log(_LEVELS.get(level, _logging.INFO), message)


def set_log_callback(callback) -> None:
    """Send library messages to ``callback(level, message)`` (0 info, 1 warning, 2 verbose, 3 debug).

    ``None`` restores the package default: the ``logging`` logger "libquant".
    """
    _core.set_log_callback(_to_logging if callback is None else callback)


set_log_callback(None)

__all__ = [
    "Error",
    "ExitCode",
    "ImportanceMatrix",
    "analyze",
    "gguf",
    "info",
    "littlebit_compress",
    "logger",
    "perplexity",
    "quantize_gguf",
    "set_log_callback",
    "set_verbosity",
    "smoothquant",
] + errors.__all__  # noqa: F405
