"""End-to-end span-ranking coreference (Lee et al. 2017) over the task embedders.

Per document: sentence segments -> embedders (word vectors and/or ELMo) -> BiLSTM, then the
tokens of all segments in order. Every span of up to ``max_span_width`` tokens inside a
sentence is represented as ``[x*_start; x*_end; x̂; φ(width)]`` (BiLSTM outputs at its ends,
an attention-weighted sum of its embeddings, a width feature) and gets a mention score
``s_m``. The best ``spans_per_token`` × tokens spans stay, in text order; each scores its
``max_antecedents`` nearest kept predecessors ``j`` with ``s_m(i) + s_m(j) + s_a(i, j)``,
``s_a`` an FFNN over ``[g_i; g_j; g_i ∘ g_j; φ(distance)]``, against a dummy antecedent
scoring 0. Training maximises the marginal log-likelihood of the gold antecedents (the dummy
when a span has none).
"""
import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from ..batching import TaskBatch
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoderConfig
from ..instance import Instance
from ..models.base import Prediction, TaskModel
from ..registry import register_model
from ..schema import POSITIVE, PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .document import Document, as_document
from .metrics import coreference_scores
from .spans import NUM_DISTANCE_BUCKETS, candidate_spans, clusters_from_antecedents, distance_buckets
from .writer import format_document


@dataclass
class CoreferenceConfig:
    """End-to-end span-ranking coreference (Lee et al. 2017) over whole documents.

    Documents are embedded and encoded in segments of whole sentences of up to
    ``segment_tokens`` tokens. Spans of up to ``max_span_width`` tokens inside a sentence
    are candidate mentions; the best ``spans_per_token`` × tokens by mention score are kept,
    and each scores its ``max_antecedents`` nearest kept predecessors and a dummy (no
    antecedent). ``feature_dim``: width and distance embeddings; ``hidden_dim``: the two
    hidden layers of the mention and pair scorers. ``max_train_sentences``: train on a
    random window of that many consecutive sentences of each document (unset: all of it);
    evaluation always reads whole documents.
    """

    embedders: EmbeddersConfig
    type: str = "coreference"
    encoder: LstmEncoderConfig = field(default_factory=LstmEncoderConfig)
    dropout: float = check(PROBABILITY, default=0.5)
    max_span_width: int = check(POSITIVE, default=10)
    spans_per_token: float = check(POSITIVE, default=0.4)
    max_antecedents: int = check(POSITIVE, default=50)
    feature_dim: int = check(POSITIVE, default=20)
    hidden_dim: int = check(POSITIVE, default=150)
    segment_tokens: int = check(POSITIVE, default=64)
    max_train_sentences: Optional[int] = check(POSITIVE, default=None)


def _scorer(input_dim: int, hidden_dim: int, dropout: float) -> nn.Sequential:
    """``(..., input_dim)`` -> ``(..., 1)`` through two ReLU hidden layers."""
    return nn.Sequential(nn.Linear(input_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_dim, 1))


class PairScorer(nn.Module):
    """``s_a``: the scorer FFNN over ``[g_i; g_j; g_i ∘ g_j; φ(distance)]``, computed without
    building that ``(spans, antecedents, 3 · span_dim + feature_dim)`` concatenation: the
    first layer's weight is applied to each part separately."""

    def __init__(self, span_dim: int, feature_dim: int, hidden_dim: int, dropout: float) -> None:
        super().__init__()
        self.distance = nn.Embedding(NUM_DISTANCE_BUCKETS, feature_dim)
        self.first = nn.Linear(3 * span_dim + feature_dim, hidden_dim)
        self.rest = nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden_dim, 1))

    def forward(self, spans: torch.Tensor, antecedents: torch.Tensor, buckets: torch.Tensor) -> torch.Tensor:
        """``spans`` ``(k, span_dim)``; ``antecedents`` ``(k, K)`` indexes into ``spans``;
        ``buckets`` ``(K,)`` distance bucket of each antecedent column -> ``(k, K)``."""
        dim = spans.size(1)
        weight = self.first.weight
        own = spans @ weight[:, :dim].T + self.first.bias  # (k, hidden)
        other = (spans @ weight[:, dim:2 * dim].T)[antecedents]  # (k, K, hidden)
        product = (spans.unsqueeze(1) * spans[antecedents]) @ weight[:, 2 * dim:3 * dim].T
        distance = self.distance(buckets) @ weight[:, 3 * dim:].T  # (K, hidden)
        return self.rest(own.unsqueeze(1) + other + product + distance).squeeze(-1)


@dataclass
class DocumentScores:
    """One document's kept spans ``starts``/``ends`` ``(k,)`` (text order), their candidate
    ``antecedents`` ``(k, K)`` (indexes into the kept spans; ``possible`` marks real ones)
    and ``scores`` ``(k, K + 1)``: column 0 the dummy, then the antecedents."""

    starts: torch.Tensor
    ends: torch.Tensor
    antecedents: torch.Tensor
    possible: torch.Tensor
    scores: torch.Tensor


@register_model(CoreferenceConfig, reads=("conll2012",))
class CoreferenceResolver(TaskModel):
    """``forward`` gives ``top_spans`` ``(documents, k, 2)`` and ``antecedents``
    ``(documents, k)`` (the chosen one's index among the kept spans, -1 for none; both
    padded with -1), and ``loss`` (the negative marginal log-likelihood summed over a
    document's kept spans, averaged over documents) when the batch has gold clusters."""

    main_metric = "conll_f1"
    prediction_suffix = ".conll"

    def __init__(self, config: CoreferenceConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies)
        span_dim = 2 * self.encoded_dim + self.embedder.input_dim + config.feature_dim
        self.head_scorer = nn.Linear(self.encoded_dim, 1)
        self.width = nn.Embedding(config.max_span_width, config.feature_dim)
        self.mention_scorer = _scorer(span_dim, config.hidden_dim, config.dropout)
        self.pair_scorer = PairScorer(span_dim, config.feature_dim, config.hidden_dim, config.dropout)

    @staticmethod
    def labels_of(instance: Instance) -> None:
        """Coreference has no per-token labels (the label vocabulary stays empty)."""
        return None

    def tensorize(self, instances: Sequence[Instance]) -> TaskBatch:
        """The embedders' tensors for every segment of the documents, plus
        ``segment_document`` ``(segments,)`` (which document), ``sentence`` ``(segments, time)``
        (sentence number in its document, -1 for padding) and, when every document has
        gold clusters, ``gold_mentions`` ``(mentions, 4)``: document, first, last, cluster."""
        documents = [self._training_view(as_document(x)) for x in instances]
        segments: List[Instance] = []
        owners: List[int] = []
        sentences: List[torch.Tensor] = []
        for index, document in enumerate(documents):
            sentence_ids = document.sentence_ids()
            for start, end in document.segments(self.config.segment_tokens):
                segments.append(Instance(tokens=document.tokens[start:end]))
                owners.append(index)
                sentences.append(torch.tensor(sentence_ids[start:end]))
        batch = super().tensorize(segments)
        batch["segment_document"] = torch.tensor(owners)
        batch["sentence"] = pad_sequence(sentences, batch_first=True, padding_value=-1)
        if all(document.clusters is not None for document in documents):
            rows = [[index, first, last, chain] for index, document in enumerate(documents)
                    for chain, cluster in enumerate(document.clusters) for first, last in cluster]
            batch["gold_mentions"] = torch.tensor(rows, dtype=torch.long).view(-1, 4)
        return batch

    def _training_view(self, document: Document) -> Document:
        """In training with ``max_train_sentences``, a random window of that many sentences."""
        count = self.config.max_train_sentences
        if not self.training or count is None or len(document.sentence_lengths) <= count:
            return document
        return document.window(random.randrange(len(document.sentence_lengths) - count + 1), count)

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        """All segments are embedded and encoded together; documents are scored one by one."""
        embedded, encoded = self.embed_and_encode(batch)
        spans, chosen, losses = [], [], []
        for index in range(int(batch["segment_document"].max()) + 1):
            rows = batch["segment_document"] == index
            mask = batch["mask"][rows]
            document = self._score_document(encoded[rows][mask], embedded[rows][mask], batch["sentence"][rows][mask])
            best = document.scores.argmax(dim=1)
            picked = document.antecedents.gather(1, (best - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
            chosen.append(torch.where(best > 0, picked, -1))
            spans.append(torch.stack([document.starts, document.ends], dim=1))
            if "gold_mentions" in batch:
                gold = batch["gold_mentions"]
                losses.append(self._loss(document, gold[gold[:, 0] == index, 1:]))
        output = {"top_spans": pad_sequence(spans, batch_first=True, padding_value=-1),
                  "antecedents": pad_sequence(chosen, batch_first=True, padding_value=-1)}
        if losses:
            output["loss"] = torch.stack(losses).mean()
        return output

    def _score_document(self, encoded: torch.Tensor, embedded: torch.Tensor, sentence: torch.Tensor) -> DocumentScores:
        """``encoded`` ``(n, encoded_dim)``, ``embedded`` ``(n, input_dim)``, ``sentence`` ``(n,)``."""
        config = self.config
        n = encoded.size(0)
        width = min(config.max_span_width, n)
        starts, ends, valid = candidate_spans(sentence, width)
        spans = self._span_vectors(encoded, embedded, starts, ends, width)
        mention_scores = self.mention_scorer(spans).squeeze(-1).masked_fill(~valid, float("-inf"))
        k = min(max(1, int(config.spans_per_token * n)), int(valid.sum()))
        top = mention_scores.topk(k).indices.sort().values  # candidate order is text order
        kept, kept_scores = spans[top], mention_scores[top]
        offsets = torch.arange(1, min(config.max_antecedents, k) + 1, device=encoded.device)
        antecedents = torch.arange(k, device=encoded.device).unsqueeze(1) - offsets  # (k, K)
        possible = antecedents >= 0
        antecedents = antecedents.clamp(min=0)
        pair_scores = self.pair_scorer(kept, antecedents, distance_buckets(offsets))
        scores = (kept_scores.unsqueeze(1) + kept_scores[antecedents] + pair_scores).masked_fill(~possible, float("-inf"))
        scores = torch.cat([scores.new_zeros(k, 1), scores], dim=1)
        return DocumentScores(starts[top], ends[top], antecedents, possible, scores)

    def _span_vectors(self, encoded: torch.Tensor, embedded: torch.Tensor, starts: torch.Tensor,
                      ends: torch.Tensor, width: int) -> torch.Tensor:
        """``(n * width, span_dim)`` for the candidates of :func:`candidate_spans`. The head
        attention of span ``(s, w)`` is a softmax over tokens ``s .. s + w``."""
        n = encoded.size(0)
        arange = torch.arange(width, device=encoded.device)
        window = (torch.arange(n, device=encoded.device).unsqueeze(1) + arange).clamp(max=n - 1)  # (n, width)
        logits = self.head_scorer(encoded).squeeze(-1)[window]  # (n, width): token s + offset
        inside = arange.unsqueeze(0) <= arange.unsqueeze(1)  # (span length - 1, offset)
        attention = logits.unsqueeze(1).masked_fill(~inside, float("-inf")).softmax(dim=-1)  # (n, width, width)
        heads = (attention @ embedded[window]).flatten(0, 1)  # (n * width, input_dim)
        return torch.cat([encoded[starts], encoded[ends], heads, self.width(ends - starts)], dim=-1)

    @staticmethod
    def _loss(document: DocumentScores, gold: torch.Tensor) -> torch.Tensor:
        """Negative log of the probability mass on gold antecedents, summed over kept spans;
        ``gold`` ``(mentions, 3)``: first, last, cluster."""
        match = (document.starts.unsqueeze(1) == gold[:, 0]) & (document.ends.unsqueeze(1) == gold[:, 1])
        cluster = torch.full_like(document.starts, -1)
        if gold.size(0):
            cluster = torch.where(match.any(dim=1), gold[:, 2][match.long().argmax(dim=1)], cluster)
        same = (cluster[document.antecedents] == cluster.unsqueeze(1)) & (cluster.unsqueeze(1) >= 0) & document.possible
        gold_columns = torch.cat([~same.any(dim=1, keepdim=True), same], dim=1)
        scores = document.scores
        return (scores.logsumexp(dim=1) - scores.masked_fill(~gold_columns, float("-inf")).logsumexp(dim=1)).sum()

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        predictions = []
        for spans, antecedents in zip(output["top_spans"].tolist(), output["antecedents"].tolist()):
            mentions = [(first, last) for first, last in spans if first >= 0]
            clusters = clusters_from_antecedents(mentions, antecedents[:len(mentions)])
            predictions.append({"clusters": [[list(mention) for mention in cluster] for cluster in clusters]})
        return predictions

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        gold = [as_document(x).clusters or [] for x in instances]
        return coreference_scores([_clusters(p) for p in predictions], gold)

    def format_predictions(self, instances: Sequence[Instance], predictions: Sequence[Prediction]) -> str:
        return "".join(format_document(as_document(x), _clusters(p)) for x, p in zip(instances, predictions))


def _clusters(prediction: Prediction) -> List[List[tuple]]:
    return [[tuple(mention) for mention in cluster] for cluster in prediction["clusters"]]
