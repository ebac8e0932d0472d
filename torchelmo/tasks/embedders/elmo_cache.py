"""A frozen, deterministic biLM's layers computed once per distinct sentence.

With ``requires_grad: false`` and a state mode in which a sentence's layers depend on the
sentence alone (``ElmoConfig.deterministic``), the biLM gives the same layers for a
sentence in every epoch and at evaluation; only the scalar mixes (and dropout) train. The
cache keys a sentence by its character ids (the token tuple as the biLM sees it) and keeps
its layers in memory. Layer 0 is the token layer twice over, so it is stored once.
"""
from typing import Dict, List, Tuple

import torch

from ...bilm import ElmoBiLm

CACHE_DTYPES = {"float32": torch.float32, "float16": torch.float16}


class ElmoLayerCache:
    """The layers of ``bilm`` per sentence, in ``dtype`` (``float32`` or ``float16``) on the CPU."""

    def __init__(self, bilm: ElmoBiLm, dtype: str = "float32") -> None:
        self.bilm = bilm
        self.dtype = CACHE_DTYPES[dtype]
        self.store: Dict[bytes, torch.Tensor] = {}
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.store)

    def layers(self, char_ids: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """What ``bilm(char_ids)`` gives: ``activations`` 3 × ``(batch, timesteps + 2, dim)``
        (float32, on ``char_ids``' device) and ``mask`` ``(batch, timesteps + 2)`` (long);
        only sentences not seen before go through the biLM."""
        lengths = (char_ids > 0).any(dim=-1).sum(dim=-1).tolist()
        rows = char_ids.cpu()
        keys = [rows[i, :n].numpy().tobytes() for i, n in enumerate(lengths)]
        missing: Dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self.store and key not in missing:
                missing[key] = i
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        if missing:
            self._compute(char_ids, list(missing.values()), keys, lengths)
        entries = [self.store[key] for key in keys]
        width = char_ids.size(1) + 2
        packed = char_ids.new_zeros((len(keys), width, entries[0].size(-1)), dtype=torch.float32)
        for i, entry in enumerate(entries):
            packed[i, : entry.size(0)] = entry.to(packed.device, torch.float32)
        token_dim = self.bilm.token_dim
        layers = [self.bilm.layer_zero(packed[..., :token_dim])]
        layers += list(packed[..., token_dim:].split(self.bilm.output_dim, dim=-1))
        ends = torch.tensor(lengths, device=char_ids.device)[:, None] + 2
        mask = torch.arange(width, device=char_ids.device)[None] < ends
        return layers, mask.long()

    def _compute(self, char_ids: torch.Tensor, indexes: List[int], keys: List[bytes], lengths: List[int]) -> None:
        longest = max(lengths[i] for i in indexes)
        with torch.no_grad():
            activations = self.bilm(char_ids[indexes, :longest])["activations"]
        joined = torch.cat([self.bilm.token_layer_of(activations), *activations[1:]], dim=-1)
        for row, i in enumerate(indexes):
            entry = joined[row, : lengths[i] + 2].to("cpu", self.dtype).clone()
            self.store[keys[i]] = entry
            self.nbytes += entry.numel() * entry.element_size()
