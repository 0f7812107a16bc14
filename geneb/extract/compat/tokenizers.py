"""Tokenizer differences: remote tokenizer classes that do not construct on current
transformers, and how geneb builds them without editing their code."""

from __future__ import annotations
