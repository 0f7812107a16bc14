"""Fixtures for tests, benchmarks and demos, kept out of the packages users import: small
stores written through the real writer, GENEB-shaped synthetic embeddings, synthetic
results tables and generated DNA task files. Nothing in geneb imports this package
(tests/test_layers.py checks it); none of its outputs are GENEB results."""

from .embeddings import (
    SyntheticTask,
    make_embeddings,
    synthetic_cache_key,
    write_synthetic_pair,
    write_synthetic_store,
)
from .results import results_frame, synthetic_results
from .store import random_embeddings, test_cache_key, write_pair
from .tasks import random_sequences, write_task_csv

__all__ = [
    "SyntheticTask", "make_embeddings", "synthetic_cache_key", "write_synthetic_pair", "write_synthetic_store",
    "results_frame", "synthetic_results", "random_embeddings", "test_cache_key", "write_pair",
    "random_sequences", "write_task_csv",
]
