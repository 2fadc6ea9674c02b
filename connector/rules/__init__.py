"""Shared qualification and scoring rules: one ``config/rules.yaml`` for both CRMs.

Load once with :func:`load_rules` (strict validation, every problem with file and line, then
precompiled), and call :func:`evaluate` per person: a pure function of the person, their
activities, the CRM :class:`Facts`, the rules and ``as_of``. :func:`backtest` compares two rule
files on people whose outcome is known; :mod:`connector.rules.synthetic` supplies such people
from the sandbox's synthetic world.
"""

from connector.rules.backtest import BacktestReport, Example, RulesMetrics, backtest
from connector.rules.decision import EXPLANATION_LIMIT, Decision
from connector.rules.engine import evaluate
from connector.rules.facts import Facts, SystemStage
from connector.rules.loader import Rules, load_rules
from connector.rules.model import RulesFile

__all__ = [
    "EXPLANATION_LIMIT",
    "BacktestReport",
    "Decision",
    "Example",
    "Facts",
    "Rules",
    "RulesFile",
    "RulesMetrics",
    "SystemStage",
    "backtest",
    "evaluate",
    "load_rules",
]
