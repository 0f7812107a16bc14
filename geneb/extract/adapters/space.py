"""SPACE (yangyz1230/space): an Enformer-style profile model with species/track experts.

The hub repository holds config and weights; the model code is the authors' repository
(github.com/ZhuJiwei111/SPACE, module `model.modeling_space`), pointed at with
`GENEB_CODE_SPACE` or `config.code_dir`. As for Enformer, the sequence is centred in an
N-padded window of the preset length (`max_length` bases), the trunk's output embeddings
(2 x dim) are cropped to the config's target length and averaged over bins (spatial
mean). SPACE appends a species token inside its transformer; we embed as `human`
(`config.species` in a user spec to change it). The checkpoint is a `TrainingSpace`
wrapper, so its keys carry a `model.` prefix that is stripped on load; we build the model
from its config and state dict directly instead of the authors' `from_pretrained`,
which relies on transformers-4 loading internals.
"""

from __future__ import annotations

from typing import Any

from ._families_common import code_dir, code_hint, import_from_checkout
from .base import ExtractError, Problem
from .enformer import EnformerAdapter, _read_state_dict, load_aliased_state

REPO = "https://github.com/ZhuJiwei111/SPACE"


class SpaceAdapter(EnformerAdapter):
    family = "space"
    #: what the authors' checkout imports at module level (model/modeling_space.py,
    #: model/modules.py, model/data.py @ 323d89c): wandb, pandas, polars and pyfaidx too
    requires = ("torch", "transformers", "einops", "pandas", "polars", "pyfaidx", "wandb")
    extra = "space"
    blocking = EnformerAdapter.blocking | {"weights", "code"}  # a local checkout: refused before any work

    @property
    def use_tf_gamma(self) -> bool:  # taken from the checkpoint's own config
        return False

    @property
    def species(self) -> str:
        return str(self.spec.config.get("species", "human"))

    @classmethod
    def check(cls, spec) -> list[Problem]:
        # the checkout first (it names the repository), then packages and weights
        code = [Problem("code", code_hint(spec, REPO, "model.modeling_space"))] if code_dir(spec) is None else []
        return code + super().check(spec)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.pop("use_tf_gamma", None)
        return {**d, "species": self.species, "code": "ZhuJiwei111/SPACE model.modeling_space"}

    def _build(self, w: str) -> Any:
        src = code_dir(self.spec)
        if src is None:
            raise ExtractError(code_hint(self.spec, REPO, "model.modeling_space"))
        cfg_mod = import_from_checkout(src, "model.config_space", self.spec)
        mod = import_from_checkout(src, "model.modeling_space", self.spec)
        self._require_config(w)
        rev = self._revision_kw(w)
        model = mod.Space(cfg_mod.SpaceConfig.from_pretrained(w, **rev))
        state = _read_state_dict(w, rev.get("revision"))
        if any(k.startswith("model.") for k in state):
            state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
        load_aliased_state(model, state, self.spec)
        if self.species not in getattr(model, "species", [self.species]):
            raise ExtractError(f"model {self.spec.model_id!r}: species {self.species!r} not in {model.species}")
        return model

    def _configure(self, model: Any) -> None:
        """Nothing to set: positional features follow the checkpoint's config."""

    def _bins(self, x: Any) -> Any:
        out = self.model_(x, return_only_embeddings=True, species=self.species, target_length=self._target)
        return out[0] if isinstance(out, tuple) else out


ADAPTER = SpaceAdapter
