"""Cache key: every field required, stable hash, clear errors."""

import pytest

from geneb.store import CACHE_KEY_FIELDS, cache_key_hash, make_cache_key, validate_cache_key
from geneb.testing import test_cache_key as tkey


def test_every_field_is_required():
    base = tkey()
    for f in CACHE_KEY_FIELDS:
        broken = {k: v for k, v in base.items() if k != f}
        with pytest.raises(ValueError, match=f):
            validate_cache_key(broken)
    kwargs = {k: base[k] for k in CACHE_KEY_FIELDS}
    kwargs.pop("pooling")
    with pytest.raises(TypeError):
        make_cache_key(**kwargs)


def test_hash_is_stable_and_order_free():
    k = tkey()
    shuffled = dict(reversed(list(k.items())))
    assert cache_key_hash(k) == cache_key_hash(shuffled)
    # pinned value: a change here silently invalidates every stored pair
    assert cache_key_hash(k) == "78c06ab7ecb8c087d42adf504289c61f147d24e302402e6d257d31e1a238c55d"


def test_every_field_changes_the_hash():
    base = tkey()
    h = cache_key_hash(base)
    changes = {"model_id": "other", "revision": "1" * 40, "layer": 3, "pooling": "cls", "special_tokens": "exclude",
               "max_length": 1024, "window": {"size": 512, "stride": 256}, "reverse_complement": "mean",
               "dtype": "float32", "tokenizer": "bpe", "task_content_hash": "other", "extractor_version": "9"}
    assert set(changes) == set(CACHE_KEY_FIELDS)
    for f, v in changes.items():
        assert cache_key_hash({**base, f: v}) != h, f


def test_bad_values():
    with pytest.raises(ValueError, match="dtype"):
        tkey(dtype="float64")
    with pytest.raises(ValueError, match="must not be empty"):
        tkey(revision="")
    with pytest.raises(ValueError, match="unknown field"):
        validate_cache_key({**tkey(), "batch_size": 8})
    with pytest.raises(ValueError, match="plain JSON"):
        tkey(max_length=float("nan"))
    extra = make_cache_key(**{k: tkey()[k] for k in CACHE_KEY_FIELDS}, extra={"prompt": "x"})
    assert extra["extra"] == {"prompt": "x"}
    assert cache_key_hash(extra) != cache_key_hash(tkey())
