"""GENA-LM (AIRI-Institute/gena-lm-bert-base, -bert-base-t2t-multi, -bert-large-t2t): the
authors' pre-layer-norm BERT, hub remote code `modeling_bert.py`.

The model card loads `AutoModel.from_pretrained(repo, trust_remote_code=True)`. The hub
`config.json` has `model_type: bert` (transformers' own `BertConfig`) and an `auto_map` whose
`AutoModel` entry names the remote masked-LM class (`BertForMaskedLM` in the t2t repositories,
`BertForPreTraining` in gena-lm-bert-base), so the card's model is a head on top of the remote
`BertModel`, and its embeddings are `hidden_states[-1]` of that model. geneb builds the same
class and embeds with its `bert` backbone: `last_hidden_state` equals `hidden_states[-1]`
(after `last_layer_ln` where the config enables it), `hidden_states[k]` is layer k.

Remote code, checked against AIRI-Institute/GENA_LM `src/gena_lm/modeling_bert.py` at
8c441a4 (the file the authors uploaded to the t2t repositories) and d338b2e (the import style
gena-lm-bert-base still ships). The differences it needs (`geneb.extract.compat`, names in
`differences`):

* `restore-removed-helpers`: the t2t file imports `find_pruneable_heads_and_indices` from
  `transformers.pytorch_utils` (gone in 5.x); the gena-lm-bert-base file imports it and
  `apply_chunking_to_forward` / `prune_linear_layer` from `transformers.modeling_utils`
  (gone on 4.57 too). Both are importable only while the module is imported.
* `build-outside-meta`: `BertEmbeddings.__init__` computes a non-persistent all-zero
  `token_type_ids` buffer; transformers 5's `from_pretrained` builds under a meta device and
  leaves that buffer as uninitialised memory (garbage token types, then an index error or
  wrong vectors). The class is built from its config on the CPU and the checkpoint loaded;
  missing weights are an error (a `last_layer_ln` the checkpoint lacks would otherwise be
  silently initialised).
* on transformers 5: `add-get-head-mask` and `add-get-extended-attention-mask`
  (`BertModel.forward` calls both; they are added to the remote `BertPreTrainedModel`).

Tokens: the hub BPE tokenizer (`PreTrainedTokenizerFast`, `[CLS] ... [SEP]`). The human
tokenizer of gena-lm-bert-base has no `N` and no lower case: such bases become `[UNK]`, as
the authors' tokenizer does; the T2T multi-species tokenizer has `N` and turns runs of 10 or
more `N` into one `-` token. Truncated to the catalog's 512 tokens, specials included.
"""

from __future__ import annotations

from typing import ClassVar

from .hf_common import RemoteCodeAdapter


class GenaLMAdapter(RemoteCodeAdapter):
    family = "gena-lm"
    differences: ClassVar[tuple[str, ...]] = (
        "class-from-auto-map", "restore-removed-helpers", "config-4x-defaults", "add-get-head-mask",
        "add-get-extended-attention-mask", "build-outside-meta",
    )
    remote_file = "modeling_bert.py"
    #: The Auto class of the model card; GENA-LM's auto_map has no other model entry.
    remote_auto_keys: ClassVar[tuple[str, ...]] = ("AutoModel",)


ADAPTER = GenaLMAdapter
