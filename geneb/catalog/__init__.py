"""Declarative catalog: models, tasks, categories, benchmarks and probe protocols.

Facts are data files in `geneb/catalog/data/` (copied from the published GENEB
reference), validated on load; code reads them only through these functions.
"""

from ._files import CatalogError
from .categories import category_order, published_task_counts
from .models import (
    FAMILIES,
    POOLINGS,
    ModelSpec,
    all_models,
    builtin_models,
    default_models,
    geneb_models,
    get_model,
    load_model_file,
    model_from_path,
)
from .protocols import REGIMES, ProtocolSpec, get_protocol, protocols
from .tasks import (
    Benchmark,
    TaskSpec,
    all_tasks,
    benchmarks,
    geneb_tasks,
    get_benchmark,
    get_task,
    load_benchmark_file,
    mini_tasks,
    register_task,
)

__all__ = [
    "CatalogError", "category_order", "published_task_counts", "FAMILIES", "POOLINGS",
    "ModelSpec", "all_models", "builtin_models", "default_models", "geneb_models", "get_model",
    "load_model_file", "model_from_path", "REGIMES", "ProtocolSpec", "get_protocol",
    "protocols", "Benchmark", "TaskSpec", "all_tasks", "benchmarks", "geneb_tasks",
    "get_benchmark", "get_task", "load_benchmark_file", "mini_tasks", "register_task",
]
