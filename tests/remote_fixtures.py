"""Tiny random-weight checkpoints in the Hugging Face hub layout, built from remote-code
fixtures in `tests/fixtures/remote/<name>/`.

A fixture directory is what a hub repository holds minus the weights: `config.json` (with
its real `auto_map`), the remote `*.py` files and the tokenizer files. Each remote `.py`
stand-in starts with a header naming the upstream repository, path and commit it models,
and reproduces every construct of that file that touches transformers or torch internals
(imports, what `__init__` computes and where, buffers vs attributes, `post_init`, class
names). A fixture that is another one's file with a named upstream change holds a
`derived.toml` instead of the copy (see `derive_files`). `checkpoint()` copies a fixture,
writes its derived files, shrinks its config, builds the class the
checkpoint was saved from with random weights (plain construction, not `from_pretrained`,
so building never depends on the code under test) and writes the weights the way the real
repository ships them.

Holds no tests itself.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "remote"


def fixture_dir(name: str) -> Path:
    d = FIXTURES / name
    if not d.is_dir():
        raise FileNotFoundError(f"no remote-code fixture {name!r} under {FIXTURES}")
    return d


def derive_files(dest: Path, src: Path) -> None:
    """Write the files `dest/derived.toml` describes and remove it. Each `[[file]]` is the
    file `base` (relative to the fixture `src`) with its header comment (everything before
    `body_starts`) replaced by `header` and each `[[file.replace]]` `old` (which must occur
    exactly once) replaced by `new`: an upstream file that differs from another by one
    commit is stored as that commit, so the two stand-ins cannot drift apart."""
    spec_path = dest / "derived.toml"
    if not spec_path.is_file():
        return
    for f in tomllib.loads(spec_path.read_text())["file"]:
        base = (src / f["base"]).resolve()
        _, start, body = base.read_text().partition(f["body_starts"])
        if not start:
            raise ValueError(f"{spec_path}: {base} has no line {f['body_starts']!r}")
        text = f["header"] + start + body
        for r in f.get("replace", []):
            if text.count(r["old"]) != 1:
                raise ValueError(f"{spec_path}: {r['old']!r} occurs {text.count(r['old'])} times in {base}, not once")
            text = text.replace(r["old"], r["new"])
        (dest / f["name"]).write_text(text)
    spec_path.unlink()


def remote_class(directory: Path, auto_key: str) -> type:
    """The class `config.json`'s `auto_map[auto_key]` names, imported the way transformers
    imports remote code (with the removed 4.x helpers importable, as geneb's loader does)."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    from geneb.extract.compat.helpers import restored_helpers

    cfg = json.loads((directory / "config.json").read_text())
    ref = cfg["auto_map"][auto_key]
    if isinstance(ref, list):
        ref = ref[0]
    with restored_helpers():
        return get_class_from_dynamic_module(ref, str(directory))


def checkpoint(name: str, dest: Path, *, save_from: str = "AutoModel", weights_format: str = "safetensors",
               seed: int = 0, config: dict[str, Any] | None = None, init_std: float | None = 0.2,
               source: Path | None = None, class_attrs: dict[str, Any] | None = None) -> Path:
    """Copy fixture `name` to `dest` (created) with `config` overrides applied to its
    config.json, and add random weights of `auto_map[save_from]` as `model.safetensors`
    or `pytorch_model.bin`. `init_std` re-draws every floating parameter from N(0, std)
    so that tiny random models give vectors far from zero. `source` replaces the fixture
    with another directory of the same layout (e.g. the real upstream files, kept outside
    this repository). `class_attrs` are set on the class only while it is built (a test's
own stand-in for a piece the installed transformers cannot take). Returns `dest`."""
    import torch
    from transformers import AutoConfig

    src = Path(source) if source is not None else fixture_dir(name)
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    derive_files(dest, src)
    cfg_path = dest / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(config or {})
    cfg_path.write_text(json.dumps(cfg, indent=2))
    cls = remote_class(dest, save_from)
    conf = AutoConfig.from_pretrained(str(dest), trust_remote_code=True)
    from geneb.extract.compat.loading import config_defaults

    config_defaults(conf)  # 4.x config attributes remote __init__s read (absent on transformers 5)
    torch.manual_seed(seed)
    saved = {k: cls.__dict__[k] for k in (class_attrs or {}) if k in cls.__dict__}
    for k, v in (class_attrs or {}).items():
        setattr(cls, k, v)
    try:
        with torch.device("cpu"):
            model = cls(conf)
    finally:
        for k in class_attrs or {}:
            if k in saved:
                setattr(cls, k, saved[k])
            else:
                delattr(cls, k)
    if init_std is not None:
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                if p.dtype.is_floating_point:
                    p.copy_(torch.randn(p.shape, generator=g) * init_std)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if weights_format == "safetensors":
        from safetensors.torch import save_file

        seen: dict[int, str] = {}
        unique = {}
        for k, v in model.state_dict().items():  # drop tied duplicates as save_pretrained does
            ptr = v.data_ptr()
            if ptr in seen and v.numel() > 0:
                continue
            seen[ptr] = k
            unique[k] = state[k]
        save_file(unique, str(dest / "model.safetensors"), metadata={"format": "pt"})
    elif weights_format == "bin":
        torch.save(state, dest / "pytorch_model.bin")
    else:
        raise ValueError(f"weights_format must be safetensors or bin, not {weights_format!r}")
    return dest


def model_file(path: Path, model_id: str, weights: Path, **fields: Any) -> Path:
    """A geneb model file (TOML) declaring `model_id` with local `weights` and `fields`
    (family, trust_remote_code, pooling, ... as the catalog declares the real model)."""
    lines = [f'["{model_id}"]', f'weights = "{weights}"']
    for k, v in fields.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        elif isinstance(v, int | float):
            lines.append(f"{k} = {v}")
        else:
            lines.append(f'{k} = "{v}"')
    path.write_text("\n".join(lines) + "\n")
    return path


# -- shared by the family tests: how geneb's vectors are taken and compared ---------------------
def embed_in_batches(adapter: Any, seqs: list[str], split: int = 3) -> Any:
    """`adapter`'s vectors for `seqs`, loading it first, in two padded mixed-length batches
    (`seqs[:split]`, `seqs[split:]`), so padding must not move any record's vector."""
    import numpy as np

    if adapter.model_ is None:
        adapter.load()
    prepared = [adapter.prepare(s) for s in seqs]
    return np.concatenate([adapter.embed(prepared[:split]), adapter.embed(prepared[split:])])


def masked_mean_reference(tok: Any, model: Any, texts: list[str], max_tokens: int, layer: int = -1,
                          tokenize: dict[str, Any] | None = None, **forward: Any) -> Any:
    """The model cards' recipe, one record at a time (so no padding): tokenise with
    truncation to `max_tokens`, run the plain forward with every hidden state, and average
    `hidden_states[layer]` over the attention mask. `tokenize`/`forward`: extra arguments."""
    import numpy as np
    import torch

    out = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, return_tensors="pt", truncation=True, max_length=max_tokens, **(tokenize or {}))
            mask = enc["attention_mask"]
            h = model(input_ids=enc["input_ids"], attention_mask=mask, output_hidden_states=True,
                      **forward)["hidden_states"][layer]
            out.append(((h * mask[..., None]).sum(1) / mask.sum(1)[:, None])[0].numpy())
    return np.stack(out)


def max_rel_error(x: Any, ref: Any) -> float:
    """The largest per-row relative L2 error of `x` against `ref`."""
    import numpy as np

    return float((np.linalg.norm(x - ref, axis=1) / np.linalg.norm(ref, axis=1)).max())


def ref_extended_attention_mask(self: Any, attention_mask: Any, input_shape: Any, device: Any = None,
                                dtype: Any = None) -> Any:
    """A test's own minimal 4.x `PreTrainedModel.get_extended_attention_mask` (removed in 5.x)
    for encoders, so a reference never runs geneb's version of it."""
    import torch

    dtype = dtype or next(self.parameters()).dtype
    m = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


def ref_head_mask(self: Any, head_mask: Any, num_hidden_layers: int, is_attention_chunked: bool = False) -> list:
    """A test's own minimal 4.x `PreTrainedModel.get_head_mask` (removed in 5.x), no head mask."""
    assert head_mask is None
    return [None] * num_hidden_layers
