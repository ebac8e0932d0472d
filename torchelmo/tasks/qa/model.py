"""Extractive question answering, BiDAF-style (Seo et al. 2017), over the task embedders.

Passage and question are embedded (word vectors, characters and/or ELMo: the embedders)
and encoded by one shared contextual BiLSTM (with a second ELMo mix concatenated to its
output when configured). Attention flows both ways over the similarity
``S[t, j] = w · [c_t; q_j; c_t ∘ q_j]``: context-to-query ``c̃_t = Σ_j softmax_j(S[t]) q_j``
and query-to-context ``h̃ = Σ_t softmax_t(max_j S[t, j]) c_t``, giving
``G_t = [c_t; c̃_t; c_t ∘ c̃_t; c_t ∘ h̃]``. A modelling BiLSTM reads ``G`` into ``M``; start
scores are linear in ``[G; M]``, end scores in ``[G; M₂]`` with ``M₂`` a one-layer BiLSTM over
``M``. Training minimises the cross-entropy of the gold start plus that of the gold end;
decoding takes the span with the best ``log p(start) + log p(end)`` among those with
``start ≤ end < start + max_answer_length``.
"""
import json
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ...errors import ConfigurationError, InputError
from ..batching import TaskBatch
from ..embedders.config import EmbeddersConfig
from ..encoder import LstmEncoder, LstmEncoderConfig
from ..instance import Instance
from ..models.base import Prediction, TaskModel
from ..registry import register_model
from ..schema import POSITIVE, PROBABILITY, check
from ..vocabulary import TaskVocabulary
from .metrics import squad_scores
from .question import Question


@dataclass
class SpanQaConfig:
    """Extractive question answering, BiDAF-style (Seo et al. 2017).

    ``encoder``: the contextual BiLSTM shared by passage and question; ``modelling``: the
    BiLSTM over the attended passage; the end scores read a further one-layer BiLSTM of the
    same size. Predicted answers have at most ``max_answer_length`` tokens.
    ``max_train_passage_tokens``: in training, a longer passage is cut to a random window of
    that many tokens that holds the gold answer (unset: whole passages); evaluation and
    prediction always read whole passages.
    """

    embedders: EmbeddersConfig
    type: str = "span_qa"
    encoder: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=100, num_layers=1))
    modelling: LstmEncoderConfig = field(default_factory=lambda: LstmEncoderConfig(hidden_size=100, num_layers=2))
    dropout: float = check(PROBABILITY, default=0.2)
    max_answer_length: int = check(POSITIVE, default=30)
    max_train_passage_tokens: Optional[int] = check(POSITIVE, default=400)


def best_spans(start_scores: torch.Tensor, end_scores: torch.Tensor, max_length: int
               ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The best span of each row by ``start_scores[first] + end_scores[last]`` with
    ``first ≤ last < first + max_length``: ``first``, ``last`` and the score, each ``(batch,)``.

    ``start_scores``, ``end_scores``: ``(batch, time)`` log-probabilities, ``-inf`` at padding.
    Scores only ``(batch, time, max_length)`` pairs, never ``time × time``.
    """
    time = start_scores.size(1)
    width = min(max_length, time)
    offsets = torch.arange(width, device=start_scores.device)
    lasts = torch.arange(time, device=start_scores.device).unsqueeze(1) + offsets  # (time, width)
    inside = lasts < time
    pairs = start_scores.unsqueeze(2) + end_scores[:, lasts.clamp(max=time - 1)]  # (batch, time, width)
    best, index = pairs.masked_fill(~inside, float("-inf")).flatten(1).max(dim=1)
    first = torch.div(index, width, rounding_mode="floor")
    return first, first + index % width, best


class BidirectionalAttention(nn.Module):
    """BiDAF's attention flow: ``(batch, time, dim)`` passage and ``(batch, question_time,
    dim)`` question -> ``(batch, time, 4 · dim)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.passage_weight = nn.Linear(dim, 1)
        self.question_weight = nn.Linear(dim, 1, bias=False)
        self.product_weight = nn.Parameter(torch.empty(dim).uniform_(-dim ** -0.5, dim ** -0.5))

    def forward(self, passage: torch.Tensor, passage_mask: torch.Tensor, question: torch.Tensor,
                question_mask: torch.Tensor) -> torch.Tensor:
        """Masks are ``(batch, time)`` and ``(batch, question_time)`` bool, each row with a token."""
        similarity = (self.passage_weight(passage) + self.question_weight(question).transpose(1, 2)
                      + (passage * self.product_weight) @ question.transpose(1, 2))  # (batch, time, question_time)
        similarity = similarity.masked_fill(~question_mask.unsqueeze(1), float("-inf"))
        to_question = similarity.softmax(dim=-1) @ question  # (batch, time, dim)
        passage_logits = similarity.max(dim=-1).values.masked_fill(~passage_mask, float("-inf"))
        to_passage = passage_logits.softmax(dim=-1).unsqueeze(1) @ passage  # (batch, 1, dim)
        return torch.cat([passage, to_question, passage * to_question, passage * to_passage], dim=-1)


@register_model(SpanQaConfig, reads=("squad",))
class SpanQa(TaskModel):
    """``forward`` gives ``start_scores`` and ``end_scores`` ``(batch, time)`` (log-softmax
    over the passage, ``-inf`` at padding) and, when every question has a gold span,
    ``loss`` (mean over the batch of the start and end cross-entropies)."""

    main_metric = "f1"
    prediction_suffix = ".json"  # SQuAD's official prediction file: {question id: answer}

    def __init__(self, config: SpanQaConfig, vocabularies: Dict[str, TaskVocabulary]) -> None:
        super().__init__(config, vocabularies)
        dim = self.encoded_dim
        self.attention = BidirectionalAttention(dim)
        self.modelling = LstmEncoder(4 * dim, config.modelling)
        end_config = LstmEncoderConfig(hidden_size=config.modelling.hidden_size, num_layers=1, dropout=0.0,
                                       bidirectional=config.modelling.bidirectional)
        self.end_encoder = LstmEncoder(self.modelling.output_dim, end_config)
        self.start_output = nn.Linear(4 * dim + self.modelling.output_dim, 1)
        self.end_output = nn.Linear(4 * dim + self.end_encoder.output_dim, 1)

    @staticmethod
    def labels_of(instance: Instance) -> None:
        """Answers are spans, not labels (the label vocabulary stays empty)."""
        return None

    @classmethod
    def build_vocabularies(cls, config: SpanQaConfig, instances: Sequence[Instance],
                           evaluation_instances: Sequence[Instance] = ()) -> Dict[str, TaskVocabulary]:
        """Words of every question and of every passage once (however many questions it has)."""
        return super().build_vocabularies(config, _texts(instances), _texts(evaluation_instances))

    def tensorize(self, instances: Sequence[Instance]) -> TaskBatch:
        """The embedders' tensors of the passages and the questions, keys prefixed
        ``passage_`` and ``question_``; ``passage_offsets`` ``(batch, time, 2)``, each token's
        character span in its context; ``span_start``/``span_end`` ``(batch,)`` when every
        question has a gold span."""
        questions = [self._training_view(_as_question(x)) for x in instances]
        batch: TaskBatch = {}
        for side, texts in (("passage", [q.tokens for q in questions]), ("question", [q.question for q in questions])):
            tensors = super().tensorize([Instance(tokens=tokens) for tokens in texts])
            batch.update({f"{side}_{key}": value for key, value in tensors.items()})
        width = batch["passage_mask"].size(1)
        batch["passage_offsets"] = torch.tensor([q.offsets + [(0, 0)] * (width - len(q.offsets)) for q in questions],
                                                dtype=torch.long).view(len(questions), width, 2)
        unanswered = next((q for q in questions if q.span is None), None)
        if self.training and unanswered is not None:
            raise InputError(f"{unanswered.source}: no gold answer to train on")
        if unanswered is None:
            batch["span_start"] = torch.tensor([q.span[0] for q in questions])
            batch["span_end"] = torch.tensor([q.span[1] for q in questions])
        return batch

    def _training_view(self, question: Question) -> Question:
        """In training with ``max_train_passage_tokens``, a random window of that many passage
        tokens holding the gold span (from its first token if the span is longer)."""
        size = self.config.max_train_passage_tokens
        if not self.training or size is None or len(question.tokens) <= size or question.span is None:
            return question
        first, last = question.span
        low, high = max(0, last - size + 1), min(first, len(question.tokens) - size)
        start = random.randint(low, high) if low <= high else min(first, len(question.tokens) - size)
        window = question.window(start, size)
        window.span = (window.span[0], min(window.span[1], size - 1))
        return window

    def forward(self, batch: TaskBatch) -> Dict[str, torch.Tensor]:
        passage, passage_mask = self._encode(batch, "passage")
        question, question_mask = self._encode(batch, "question")
        attended = self.attention(passage, passage_mask, question, question_mask)
        modelled = self.dropout(self.modelling(attended, passage_mask))
        ends = self.dropout(self.end_encoder(modelled, passage_mask))
        start_scores = self._log_softmax(self.start_output(torch.cat([attended, modelled], dim=-1)), passage_mask)
        end_scores = self._log_softmax(self.end_output(torch.cat([attended, ends], dim=-1)), passage_mask)
        output = {"start_scores": start_scores, "end_scores": end_scores}
        if "span_start" in batch:
            output["loss"] = (nn.functional.nll_loss(start_scores, batch["span_start"])
                              + nn.functional.nll_loss(end_scores, batch["span_end"]))
        return output

    def _encode(self, batch: TaskBatch, side: str) -> Tuple[torch.Tensor, torch.Tensor]:
        """One side's contextual vectors ``(batch, time, encoded_dim)`` and mask."""
        prefix = side + "_"
        tensors = {key[len(prefix):]: value for key, value in batch.items() if key.startswith(prefix)}
        return self.encode(tensors), tensors["mask"]

    @staticmethod
    def _log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return logits.squeeze(-1).masked_fill(~mask, float("-inf")).log_softmax(dim=-1)

    def decode(self, batch: TaskBatch, output: Dict[str, torch.Tensor]) -> List[Prediction]:
        """``start``/``end``: the answer's characters in its context; ``tokens``: its first
        and last passage token; ``score``: p(start) · p(end)."""
        first, last, score = best_spans(output["start_scores"], output["end_scores"], self.config.max_answer_length)
        rows = torch.arange(first.size(0), device=first.device)
        offsets = batch["passage_offsets"]
        starts, ends = offsets[rows, first, 0].tolist(), offsets[rows, last, 1].tolist()
        return [{"start": s, "end": e, "tokens": [f, l], "score": p}
                for s, e, f, l, p in zip(starts, ends, first.tolist(), last.tolist(), score.exp().tolist())]

    def score(self, predictions: Sequence[Prediction], instances: Sequence[Instance]) -> Dict[str, float]:
        """SQuAD v1.1 exact match and F1, in percent."""
        questions = [_as_question(x) for x in instances]
        unanswered = next((q for q in questions if not q.answers), None)
        if unanswered is not None:
            raise InputError(f"{unanswered.source}: no gold answers to score against")
        return squad_scores([_answer(q, p) for q, p in zip(questions, predictions)], [q.answers for q in questions])

    def prediction_record(self, instance: Instance, prediction: Prediction) -> Dict[str, Any]:
        question = _as_question(instance)
        return {"id": question.question_id, "answer": _answer(question, prediction), "start": prediction["start"],
                "end": prediction["end"], "score": prediction["score"]}

    def format_predictions(self, instances: Sequence[Instance], predictions: Sequence[Prediction]) -> str:
        answers = {q.question_id: _answer(q, p) for q, p in zip(map(_as_question, instances), predictions)}
        return json.dumps(answers, indent=2, ensure_ascii=False) + "\n"


def _texts(instances: Sequence[Instance]) -> List[Instance]:
    """The passages (each once) and the questions of ``instances``, as token sequences."""
    passages = {id(x.tokens): x.tokens for x in instances}
    return [Instance(tokens=tokens) for tokens in passages.values()] + [Instance(tokens=x.question) for x in instances]


def _as_question(instance: Instance) -> Question:
    if not isinstance(instance, Question):
        raise ConfigurationError("a span_qa model reads questions on passages (SQuAD JSON, or JSON lines of "
                                 "{\"id\", \"context\", \"question\"}), not tokenized sentences (--text)")
    return instance


def _answer(question: Question, prediction: Prediction) -> str:
    return question.context[prediction["start"]:prediction["end"]]
