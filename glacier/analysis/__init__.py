"""Cost and structure analysis of a pipeline (``run(mode="analyze")``, ``glacier cost``).

The price model and its scaling assumptions are documented in ``docs/cost-model.md``.
"""

from glacier.analysis.analysis import CostEstimate, CriticalPath, PipelineAnalysis, analyze
from glacier.analysis.cost import CostLine, TaskEstimate
from glacier.analysis.prices import US_EAST_1, PriceModel
from glacier.analysis.transitions import count_transitions
from glacier.analysis.usage import UsageAssumptions

__all__ = [
    "US_EAST_1",
    "CostEstimate",
    "CostLine",
    "CriticalPath",
    "PipelineAnalysis",
    "PriceModel",
    "TaskEstimate",
    "UsageAssumptions",
    "analyze",
    "count_transitions",
]
