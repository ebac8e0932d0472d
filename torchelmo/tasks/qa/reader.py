"""SQuAD question answering files: SQuAD JSON, or JSON lines of questions on passages.

SQuAD JSON is one object ``{"data": [{"paragraphs": [{"context", "qas": [{"id",
"question", "answers": [{"text", "answer_start"}]}]}]}]}``; a question without ``id``
(the rebuilt SQuAD 1.0 train file has none) gets ``ARTICLE.PARAGRAPH.QUESTION`` (0-based
positions). JSON lines hold one ``{"id", "context", "question"}`` per line, with optional
``answers`` in the same form (what ``torchelmo task predict`` reads).

Passages and questions are tokenized by :func:`torchelmo.tokenizer.tokenize_with_offsets`
(each passage once, however many questions it has). Every answer must be its passage's
text at ``answer_start``; the first one maps to the gold token span (the tokens it
overlaps). Policy: a question none of whose answers has an offset (``answer_start: -1``)
is skipped, and the skips are counted in one warning per file; a missing field, an empty
passage or question, or an answer that is not at its offset is an :class:`InputError`
naming the file and the question.
"""
import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ...errors import InputError
from ...tokenizer import tokenize_with_offsets
from ..readers.blocks import TextFileConfig, decode_file
from ..registry import register_reader
from .question import Offsets, Question, token_offsets, token_span


@dataclass
class SquadReaderConfig(TextFileConfig):
    """SQuAD JSON (``data[].paragraphs[].{context, qas[]}``), or JSON lines of
    ``{"id", "context", "question"}`` (optionally ``"answers"`` as in SQuAD), tokenized by
    :mod:`torchelmo.tokenizer`. A question none of whose answers has an offset
    (``answer_start: -1``) is skipped and counted in the log; other bad records are errors."""

    type: str = "squad"


logger = logging.getLogger(__name__)

Passage = Tuple[List[str], Offsets]


@register_reader(SquadReaderConfig)
def read_squad(path: str, config: SquadReaderConfig) -> Iterator[Question]:
    """The questions of ``path`` in file order."""
    skipped = 0
    for record, where, passage in _records(path, config):
        question = _question(record, where, passage, path)
        if question is None:
            skipped += 1
            logger.debug("%s: question %s: no answer has an offset; skipped", path, where)
            continue
        yield question
    if skipped:
        logger.warning("%s: skipped %d question(s) none of whose answers has an offset (answer_start -1)",
                       path, skipped)


def _records(path: str, config: SquadReaderConfig) -> Iterator[Tuple[Dict[str, Any], str, Optional[Passage]]]:
    """``(question record with its context, default id, tokenized passage or None)``."""
    text = decode_file(path, config)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict) and "data" in document:
        yield from _squad_records(document, path)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{number}: neither SQuAD JSON (an object with 'data') nor a JSON line "
                             f"({error.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: expected an object with 'id', 'context' and 'question'")
        if "id" not in record:
            raise InputError(f"{path}:{number}: missing 'id'")
        yield record, str(record["id"]), None


def _squad_records(document: Dict[str, Any], path: str) -> Iterator[Tuple[Dict[str, Any], str, Optional[Passage]]]:
    articles = document["data"]
    if not isinstance(articles, list):
        raise InputError(f"{path}: 'data' must be a list of articles")
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise InputError(f"{path}: data[{a}]: missing 'paragraphs' list")
        for p, paragraph in enumerate(paragraphs):
            where = f"data[{a}].paragraphs[{p}]"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("qas"), list):
                raise InputError(f"{path}: {where}: missing 'qas' list")
            context = paragraph.get("context")
            passage = _passage(context, path, where) if paragraph["qas"] else None
            for q, qa in enumerate(paragraph["qas"]):
                if not isinstance(qa, dict):
                    raise InputError(f"{path}: {where}.qas[{q}]: expected an object")
                yield {**qa, "context": context}, str(qa.get("id", f"{a}.{p}.{q}")), passage


def _passage(context: Any, path: str, where: str) -> Passage:
    if not isinstance(context, str):
        raise InputError(f"{path}: {where}: missing 'context' text")
    tokens = tokenize_with_offsets(context)
    if not tokens:
        raise InputError(f"{path}: {where}: empty passage")
    return [t.text for t in tokens], token_offsets(tokens)


def _question(record: Dict[str, Any], question_id: str, passage: Optional[Passage], path: str) -> Optional[Question]:
    where = f"{path}: question {question_id}"
    if passage is None:
        passage = _passage(record.get("context"), path, f"question {question_id}")
    tokens, offsets = passage
    text = record.get("question")
    if not isinstance(text, str):
        raise InputError(f"{where}: missing 'question' text")
    question = [t.text for t in tokenize_with_offsets(text)]
    if not question:
        raise InputError(f"{where}: empty question")
    answers, span = _answers(record, offsets, where)
    if answers is not None and span is None:
        return None
    return Question(tokens=tokens, source=f"{path}#{question_id}", question=question, context=record["context"],
                    offsets=offsets, question_id=question_id, answers=answers or [], span=span)


def _answers(record: Dict[str, Any], offsets: Offsets, where: str
             ) -> Tuple[Optional[List[str]], Optional[Tuple[int, int]]]:
    """The gold texts and the first located answer's token span; ``(None, None)`` for a
    record without ``answers`` (JSON lines to predict on)."""
    if "answers" not in record:
        return None, None
    answers = record["answers"]
    if not isinstance(answers, list) or not answers:
        raise InputError(f"{where}: 'answers' must be a non-empty list")
    context = record["context"]
    texts: List[str] = []
    span = None
    for i, answer in enumerate(answers):
        if not isinstance(answer, dict) or not isinstance(answer.get("text"), str) \
                or not isinstance(answer.get("answer_start"), int):
            raise InputError(f"{where}: answer {i} needs 'text' (a string) and 'answer_start' (an int)")
        text, start = answer["text"], answer["answer_start"]
        texts.append(text)
        if start == -1:
            continue
        if not 0 <= start <= len(context) - len(text) or context[start:start + len(text)] != text:
            raise InputError(f"{where}: answer {i} {text!r} is not the passage's text at answer_start {start}")
        located = token_span(offsets, start, start + len(text))
        if located is None:
            raise InputError(f"{where}: answer {i} {text!r} covers no token of the passage")
        span = span or located
    return texts, span
