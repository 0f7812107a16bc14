"""Analyses over results tables: aggregation, scale, pairs, Pareto, winners, few-shot,
variance, groups, ablations, stability, recommendations and uncertainty.

Every analysis is a function taking the frame from `load_results` and returning a
polars DataFrame, so a notebook and `geneb analyze` compute the same numbers; which
models and which metric it looks at is one `Selection` value (``select=``), and
`geneb analyze` runs the entries of `registry.ANALYSES` in order.
"""

from .ablations import Ablation, ablation_effects, ablation_summary, load_ablations
from .bootstrap import bootstrap_over_tasks
from .checks import check_results
from .errors import AnalysisError
from .fewshot import drop_vs_ceiling, few_shot_drops
from .groups import group_means
from .load import load_predictions, load_results, model_table, results_files
from .metadata import build_metadata, parse_filter, read_metadata_csv, select_models
from .pairs import smaller_beats_larger
from .pareto import pareto_frontier
from .pipeline import Analysis, AnalysisOptions, load_analysis, run_analysis
from .predictions import bootstrap_predictions, mcc_from_confusion, paired_comparison
from .recommend import recommendations
from .registry import ANALYSES, Context, Entry
from .scale import scale_correlation, spearman
from .scores import category_scores, leaderboard, model_scores, regime_summary, task_scores
from .selection import Selection
from .stability import ranking_stability
from .submissions import read_submissions, submission_filename, write_submission
from .variance import high_variance_tasks, top_k_tally
from .winners import category_winners, rerank_counts, reranking

__all__ = [
    "Ablation", "ablation_effects", "ablation_summary", "load_ablations", "bootstrap_over_tasks",
    "check_results", "AnalysisError", "drop_vs_ceiling", "few_shot_drops", "group_means",
    "load_predictions", "load_results", "model_table", "results_files", "build_metadata",
    "parse_filter", "read_metadata_csv", "select_models", "smaller_beats_larger", "pareto_frontier",
    "Analysis", "AnalysisOptions", "run_analysis", "load_analysis", "bootstrap_predictions", "mcc_from_confusion",
    "paired_comparison", "recommendations", "scale_correlation", "spearman", "category_scores",
    "leaderboard", "model_scores", "regime_summary", "task_scores", "ranking_stability",
    "read_submissions", "submission_filename", "write_submission",
    "high_variance_tasks", "top_k_tally", "category_winners", "rerank_counts", "reranking",
    "Selection", "ANALYSES", "Context", "Entry",
]
