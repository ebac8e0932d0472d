"""The span-ranking coreference model: span bookkeeping and loss on hand-made cases, and a
few training steps on two real GUM documents with the small allennlp ELMo, through the CLI."""
import json
import math
from pathlib import Path

import pytest
import torch

from torchelmo.cli import main
from torchelmo.tasks.coreference.document import Document
from torchelmo.tasks.coreference.model import CoreferenceResolver, DocumentScores, PairScorer
from torchelmo.tasks.coreference.reader import Conll2012ReaderConfig, read_conll2012
from torchelmo.tasks.coreference.spans import candidate_spans, clusters_from_antecedents, distance_buckets
from torchelmo.tasks.coreference.writer import format_document

GUM = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gum"
ONTOGUM = Conll2012ReaderConfig(token_column=1, sentences=str(GUM / "dep" / "{name}.conllu"))


def test_candidate_spans_stay_inside_sentences_and_the_document():
    starts, ends, valid = candidate_spans(torch.tensor([0, 0, 1]), 2)
    assert starts.tolist() == [0, 0, 1, 1, 2, 2]
    assert ends.tolist() == [0, 1, 1, 2, 2, 2]  # the last one is clamped: it would end at token 3
    assert valid.tolist() == [True, True, True, False, True, False]  # 1-2 crosses into sentence 1


def test_distance_buckets_and_clusters_from_antecedents():
    distances = torch.tensor([1, 2, 3, 4, 5, 7, 8, 15, 16, 31, 32, 63, 64, 500])
    assert distance_buckets(distances).tolist() == [1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    mentions = [(0, 0), (2, 3), (5, 5), (7, 7), (9, 9)]
    # (5,5) -> (0,0); (7,7) -> (2,3); (9,9) -> (5,5): two clusters
    assert clusters_from_antecedents(mentions, [-1, -1, 0, 1, 2]) == [[(0, 0), (5, 5), (9, 9)], [(2, 3), (7, 7)]]


def test_pair_scorer_is_the_ffnn_over_the_concatenation():
    torch.manual_seed(0)
    scorer = PairScorer(span_dim=6, feature_dim=3, hidden_dim=5, dropout=0.0).eval()
    spans = torch.randn(4, 6)
    antecedents = torch.tensor([[0, 0], [0, 0], [1, 0], [2, 1]])
    buckets = torch.tensor([1, 2])
    g_i = spans.unsqueeze(1).expand(-1, 2, -1)
    g_j = spans[antecedents]
    features = torch.cat([g_i, g_j, g_i * g_j, scorer.distance(buckets).expand(4, -1, -1)], dim=-1)
    expected = scorer.rest(scorer.first(features)).squeeze(-1)
    assert torch.allclose(scorer(spans, antecedents, buckets), expected, atol=1e-6)


def test_loss_is_the_marginal_log_likelihood_of_gold_antecedents():
    # Kept spans A (0,0), B (2,2), C (4,4); gold cluster {A, C}. Row i holds the dummy (0),
    # then antecedents i-1 and i-2. A has none: -log(1) = 0. B has no gold antecedent, so the
    # dummy is gold: log(e^0 + e^1) - log(e^0). C's gold antecedent is A (column 2, score 1):
    # log(e^0 + e^2 + e^1) - log(e^1).
    inf = float("-inf")
    scores = DocumentScores(starts=torch.tensor([0, 2, 4]), ends=torch.tensor([0, 2, 4]),
                            antecedents=torch.tensor([[0, 0], [0, 0], [1, 0]]),
                            possible=torch.tensor([[False, False], [True, False], [True, True]]),
                            scores=torch.tensor([[0.0, inf, inf], [0.0, 1.0, inf], [0.0, 2.0, 1.0]]))
    gold = torch.tensor([[0, 0, 7], [4, 4, 7], [9, 9, 3]])  # first, last, cluster
    row_c = math.log(1 + math.e ** 2 + math.e)
    assert CoreferenceResolver._loss(scores, gold).item() == pytest.approx(math.log(1 + math.e) + row_c - 1)
    # without gold mentions every span's gold is the dummy: C costs log(1 + e^2 + e) - 0
    assert CoreferenceResolver._loss(scores, gold[:0]).item() == pytest.approx(math.log(1 + math.e) + row_c)


def test_segments_pack_sentences_and_windows_keep_inner_mentions():
    document = Document(tokens=list("abcdefghij"), sentence_lengths=[3, 2, 5], clusters=[[(0, 1), (3, 4)], [(5, 9)]])
    assert document.segments(5) == [(0, 5), (5, 10)]
    assert document.segments(4) == [(0, 3), (3, 5), (5, 9), (9, 10)]  # the 5-token sentence is cut
    assert document.sentence_ids() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    window = document.window(1, 2)
    assert window.tokens == list("defghij") and window.sentence_lengths == [2, 5]
    assert window.clusters == [[(0, 1)], [(2, 6)]]


def gum_excerpt(name: str, sentences: int, target: Path) -> str:
    """The first ``sentences`` sentences of a real OntoGUM document, as a CoNLL-2012 file."""
    (document,) = read_conll2012(str(GUM / "coref-ontogum" / f"{name}.conll"), ONTOGUM)
    target.write_text(format_document(document.window(0, sentences), document.window(0, sentences).clusters))
    return str(target)


def test_training_evaluation_and_predictions_through_the_cli(tmp_path, capsys, options_file, weight_file):
    train_file = gum_excerpt("GUM_news_nasa", 14, tmp_path / "train.conll")
    dev_file = gum_excerpt("GUM_news_iodine", 8, tmp_path / "dev.conll")
    config = {"data": {"reader": {"type": "conll2012"}, "train": {"path": train_file},
                       "validation": {"path": dev_file}, "test": {"path": dev_file}},
              "model": {"type": "coreference", "encoder": {"hidden_size": 8, "num_layers": 1, "dropout": 0.0},
                        "hidden_dim": 8, "feature_dim": 4, "max_span_width": 6, "segment_tokens": 40,
                        "max_train_sentences": 10,
                        "embedders": {"words": {"dim": 8},
                                      "elmo": {"options_file": options_file, "weight_file": weight_file}}},
              "trainer": {"epochs": 2, "batch_size": 1, "patience": 2, "optimizer": {"lr": 0.01}}}
    (tmp_path / "coref.json").write_text(json.dumps(config))
    folder = tmp_path / "run"
    assert main(["task", "train", str(tmp_path / "coref.json"), "--output-dir", str(folder)]) == 0
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["validation_metric"] == "conll_f1" and len(metrics["history"]) == 2
    for metric in ("muc", "b3", "ceafe"):
        for part in ("precision", "recall", "f1"):
            assert 0.0 <= metrics["test"][f"{metric}_{part}"] <= 1.0
    mean_f1 = sum(metrics["test"][f"{m}_f1"] for m in ("muc", "b3", "ceafe")) / 3
    assert metrics["test"]["conll_f1"] == pytest.approx(mean_f1) and metrics["test"]["loss"] > 0
    assert all(h["train_loss"] > 0 for h in metrics["history"])

    (dev,) = read_conll2012(dev_file, Conll2012ReaderConfig())
    (record,) = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert record["tokens"] == dev.tokens
    mentions = [tuple(m) for cluster in record["clusters"] for m in cluster]
    assert len(mentions) == len(set(mentions)) and all(0 <= a <= b < len(dev.tokens) for a, b in mentions)
    (written,) = read_conll2012(str(folder / "predictions.conll"), Conll2012ReaderConfig())
    assert written.tokens == dev.tokens and written.sentence_lengths == dev.sentence_lengths
    assert written.clusters == sorted((sorted(map(tuple, c)) for c in record["clusters"]), key=lambda c: c[0])

    capsys.readouterr()
    assert main(["task", "evaluate", str(folder), dev_file]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["conll_f1"] == pytest.approx(metrics["test"]["conll_f1"])  # the best checkpoint reloads
    assert main(["task", "predict", str(folder), dev_file, "--output", str(tmp_path / "out.conll")]) == 0
    assert (tmp_path / "out.conll").read_text() == (folder / "predictions.conll").read_text()
