"""Caduceus and PlantCaduceus (kuleshov-group/*): bidirectional, RC-equivariant Mamba.

Hub remote code (`modeling_caduceus.py`, `modeling_rcps.py`; pinned revision,
trust_remote_code) on `mamba_ssm` kernels, so the family needs the `mamba` extra and a CUDA
GPU; it fails at once, naming both, elsewhere. The model card's `AutoModel` class is
`Caduceus` (auto_map), whose embeddings are `last_hidden_state`.

Remote code, checked against kuleshov-group/caduceus `caduceus/*.py` at 0060a6d (the files on
the hub, saved with transformers 4.38). The differences it needs (`geneb.extract.compat`):

* `build-outside-meta`: `Caduceus.__init__` never calls `post_init`, so transformers 5's
  `from_pretrained` fails (`'Caduceus' object has no attribute 'all_tied_weights_keys'`); the
  masked-LM class fails too (its `tie_weights()` takes no arguments, 5.x passes
  `recompute_mapping`). The class is built from its config on the CPU, `post_init` called and
  the checkpoint loaded; the same path on 4.x keeps vectors identical across versions.
  `BiMambaWrapper` assigns the forward Mamba's in/out projections to the reverse one, and the
  hub safetensors drop those duplicates: they load with the forward weights they share.
* `class-from-auto-map`: `Caduceus` by the `AutoModel` entry.

The model takes no attention mask and reads every sequence in both directions, so a padded
batch would leak pads into real positions (the reference padded and pooled with the mask,
which does not undo that). We run each batch as groups of equal-length sequences without
padding, so every vector equals the solo forward pass. Character tokens (upper-cased by the
tokenizer; N is in the vocabulary, other characters become `[UNK]`); the tokenizer's
trailing [SEP] is omitted (catalog policy "none"). RC-equivariant ("ps") checkpoints return
2 x d_model features; we keep them all.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .hf_common import RemoteCodeAdapter


class CaduceusAdapter(RemoteCodeAdapter):
    family = "caduceus"
    requires = ("torch", "transformers", "mamba_ssm")
    extra = "mamba"
    needs_cuda = True
    differences: ClassVar[tuple[str, ...]] = ("class-from-auto-map", "build-outside-meta")
    remote_file = "modeling_caduceus.py"
    remote_auto_keys: ClassVar[tuple[str, ...]] = ("AutoModel",)

    takes_attention_mask = False  # Mamba: no mask; equal-length groups run unpadded
    measure_width = True  # RC-equivariant checkpoints return 2 x d_model

    def _forward(self, ids: Any, mask: Any) -> Any:
        return self.tapped(self.model_(input_ids=ids, output_hidden_states=self.all_layers, return_dict=True))


ADAPTER = CaduceusAdapter
