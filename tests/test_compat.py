"""The remote-code compatibility layer on its own: restored helpers behave like the
transformers 4.x originals (compared with the real ones where this transformers still has
them), nothing is left patched afterwards, and the build-then-load path refuses what
`from_pretrained` would refuse."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from geneb.extract import compat  # noqa: E402
from geneb.extract.compat import helpers, loading  # noqa: E402

TF5 = int(transformers.__version__.split(".")[0]) >= 5


def test_every_difference_names_its_upstream_construct_and_versions():
    diffs = compat.differences()
    assert {"restore-removed-helpers", "build-outside-meta", "class-from-auto-map", "config-4x-defaults",
            "add-get-head-mask"} <= set(diffs)
    for d in diffs.values():
        assert d.upstream and d.construct and d.why
        d.applies()  # a valid specifier set
    assert compat.difference("add-get-head-mask").applies("5.25.0")
    assert not compat.difference("add-get-head-mask").applies("4.57.6")
    assert compat.active(["add-get-head-mask", "build-outside-meta"], "4.57.6") == ("build-outside-meta",)
    with pytest.raises(KeyError, match="unknown compatibility difference"):
        compat.difference("no-such-thing")


def test_restored_helpers_are_importable_only_inside_the_block():
    import transformers.modeling_utils as mu
    import transformers.pytorch_utils as pu

    before = (hasattr(pu, "find_pruneable_heads_and_indices"), hasattr(mu, "apply_chunking_to_forward"))
    with helpers.restored_helpers() as added:
        from transformers.modeling_utils import apply_chunking_to_forward  # noqa: F401
        from transformers.pytorch_utils import find_pruneable_heads_and_indices  # noqa: F401
        if TF5:
            assert "transformers.pytorch_utils.find_pruneable_heads_and_indices" in added
    after = (hasattr(pu, "find_pruneable_heads_and_indices"), hasattr(mu, "apply_chunking_to_forward"))
    assert before == after


@pytest.mark.parametrize("heads,pruned", [({0, 2}, set()), ({1, 3}, {0}), ({0}, {0, 1})])
def test_find_pruneable_heads_matches_the_4x_semantics(heads, pruned):
    got_heads, got_index = helpers.find_pruneable_heads_and_indices(heads, 4, 3, pruned)
    real = getattr(__import__("transformers.pytorch_utils", fromlist=["x"]), "find_pruneable_heads_and_indices", None)
    if real is not None:  # transformers 4.x still ships the original: compare with it
        want_heads, want_index = real(set(heads), 4, 3, set(pruned))
        assert got_heads == want_heads and torch.equal(got_index, want_index)
    else:
        assert got_heads == set(heads) - set(pruned)
        assert got_index.dtype == torch.long and len(got_index) == (4 - len(got_heads)) * 3


def test_get_head_mask_is_added_to_the_remote_class_only():
    class Remote(torch.nn.Module):
        dtype = torch.float32

    assert helpers.add_missing_methods(Remote) == ["get_head_mask"]
    assert Remote().get_head_mask(None, 3) == [None, None, None]
    m = Remote().get_head_mask(torch.ones(2), 3)
    assert m.shape == (3, 1, 2, 1, 1)
    assert helpers.add_missing_methods(Remote) == []
    if TF5:
        assert not hasattr(transformers.PreTrainedModel, "get_head_mask")


def test_config_defaults_fill_only_what_is_missing():
    cfg = transformers.PretrainedConfig()
    cfg.is_decoder = True if hasattr(cfg, "is_decoder") else None
    added = loading.config_defaults(cfg)
    assert "is_decoder" not in added
    for name in loading.CONFIG_4X_DEFAULTS:
        assert hasattr(cfg, name)


def _tiny_bert(tmp_path, prefix_model=True):
    cfg = transformers.BertConfig(vocab_size=12, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=64)
    torch.manual_seed(0)
    full = transformers.BertForMaskedLM(cfg) if prefix_model else transformers.BertModel(cfg)
    tmp_path.mkdir(parents=True, exist_ok=True)
    torch.save(full.state_dict(), tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps(cfg.to_dict()))
    return cfg, full


def test_build_and_load_strips_the_base_model_prefix_and_matches_from_pretrained(tmp_path):
    cfg, full = _tiny_bert(tmp_path)
    model = loading.build_and_load(transformers.BertModel, cfg, str(tmp_path), None)
    ref = transformers.BertModel.from_pretrained(str(tmp_path))
    ids = torch.tensor([[2, 5, 6, 7, 3]])
    with torch.no_grad():
        a = model.eval()(input_ids=ids).last_hidden_state
        b = ref.eval()(input_ids=ids).last_hidden_state
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert torch.equal(model.embeddings.word_embeddings.weight, full.bert.embeddings.word_embeddings.weight)


def test_build_and_load_refuses_missing_weights_by_name(tmp_path):
    cfg, full = _tiny_bert(tmp_path, prefix_model=False)
    state = full.state_dict()
    del state["encoder.layer.0.output.dense.weight"]
    torch.save(state, tmp_path / "pytorch_model.bin")
    with pytest.raises(RuntimeError, match=r"lacks weights of BertModel: encoder\.layer\.0\.output\.dense\.weight"):
        loading.build_and_load(transformers.BertModel, cfg, str(tmp_path), None)


def test_build_and_load_calls_post_init_when_init_skips_it(tmp_path):
    cfg, _ = _tiny_bert(tmp_path, prefix_model=False)
    calls = []

    class NoPostInit(transformers.BertModel):
        def __init__(self, config):
            transformers.PreTrainedModel.__init__(self, config)
            self.inner = transformers.BertModel(config)  # a wrapper that never finishes itself
            calls.append("init")

        base_model_prefix = "inner"

    model = loading.build_and_load(NoPostInit, cfg, str(tmp_path), None)
    assert calls == ["init"]
    if TF5:
        assert hasattr(model, "all_tied_weights_keys")  # set by post_init on transformers 5


def test_no_weights_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights found"):
        loading.checkpoint_files(str(tmp_path), None)
