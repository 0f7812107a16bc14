"""Tiny Hugging Face models built offline from configs (random weights), saved as model
directories, plus small generated task files. Shared by the extractor-core tests."""

from __future__ import annotations

import csv
import random
from pathlib import Path

#: family name -> (transformers config class, kwargs, tokenizer template)
TINY = {
    "bert": ("BertConfig", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=64, max_position_embeddings=600), "cls-sep"),
    "esm": ("EsmConfig", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=64, max_position_embeddings=600, mask_token_id=4,
                              position_embedding_type="rotary", emb_layer_norm_before=False,
                              token_dropout=False), "cls-sep"),
    "gpt2": ("GPT2Config", dict(n_embd=32, n_layer=2, n_head=4, n_inner=64, n_positions=600,
                                bos_token_id=2, eos_token_id=3), "none"),
    "llama": ("LlamaConfig", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  num_key_value_heads=2, intermediate_size=64,
                                  max_position_embeddings=600, bos_token_id=2, eos_token_id=3), "bos"),
    "mistral": ("MistralConfig", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, intermediate_size=64, head_dim=8,
                                      max_position_embeddings=600, sliding_window=None,
                                      bos_token_id=2, eos_token_id=3), "bos"),
    "olmo": ("OlmoConfig", dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=64, max_position_embeddings=600,
                                bos_token_id=2, eos_token_id=3), "bos"),
}


def char_tokenizer(template: str, model_max_length: int = 600):
    """A fast single-nucleotide tokenizer with the given special-token template."""
    from tokenizers import Tokenizer, models, processors
    from transformers import PreTrainedTokenizerFast

    from geneb.extract.adapters.random_init import VOCAB

    tok = Tokenizer(models.BPE(vocab=dict(VOCAB), merges=[], unk_token="[UNK]"))
    if template == "cls-sep":
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    elif template == "bos":
        tok.post_processor = processors.TemplateProcessing(single="[CLS] $A", special_tokens=[("[CLS]", 2)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", bos_token="[CLS]", eos_token="[SEP]", model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"])  # no token_type_ids: GPT-2 would embed them


def build_tiny(kind: str, directory: Path, seed: int = 0, alphabet_without: str = "",
               drop_unknown: bool = False) -> Path:
    """Save a tiny randomly initialised `kind` model with a char tokenizer into `directory`.
    `alphabet_without` drops letters from the vocabulary (to provoke unknown tokens);
    `drop_unknown` gives the BPE no unknown token, so such letters vanish silently and the
    declared unk token is the pad token (GPT2-Gene's `dnagpt/gpt2_gene_*` tokenizer)."""
    import torch
    import transformers

    cfg_name, kwargs, template = TINY[kind]
    config = getattr(transformers, cfg_name)(vocab_size=10, pad_token_id=0, **kwargs)
    torch.manual_seed(seed)
    model = transformers.AutoModel.from_config(config)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tok = char_tokenizer(template)
    if alphabet_without:
        from tokenizers import Tokenizer, models

        from geneb.extract.adapters.random_init import VOCAB

        vocab = {k: v for k, v in VOCAB.items() if k not in alphabet_without}
        tok._tokenizer.model = models.BPE(vocab=vocab, merges=[], unk_token=None if drop_unknown else "[UNK]")
        assert isinstance(tok._tokenizer, Tokenizer)
        if drop_unknown:
            tok.unk_token = tok.pad_token
    tok.save_pretrained(directory)
    return directory


def write_task(directory: Path, task_id: str, n_train: int, n_test: int, min_len: int = 20,
               max_len: int = 300, seed: int = 0, alphabet: str = "ACGT") -> Path:
    """A flat-layout task file `<task_id>.csv` (text,label,split) of random DNA."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{task_id}.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        for i in range(n_train + n_test):
            n = rng.randint(min_len, max_len)
            w.writerow(["".join(rng.choice(alphabet) for _ in range(n)), i % 2,
                        "train" if i < n_train else "test"])
    return path
