"""Whole runs on real English text: learning, exact resumption, and the run directory's rules."""
import json
import math
from collections import Counter

import pytest

from torchelmo import ConfigurationError, ElmoOptions
from torchelmo.training import TrainingConfig, evaluate_files, resolve_settings, train
from torchelmo.weights import read_datasets
from training_support import TINY_OPTIONS, one_thread, write_corpus  # noqa: F401 (one_thread: a fixture)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    train_file, heldout = write_corpus(tmp_path_factory.mktemp("corpus"))
    return str(train_file), str(heldout)


def _unigram_perplexity(train_file, heldout_file, vocab_words):
    """Add-one unigram model over the same predictions the biLM makes (words, <UNK>, </S>)."""
    vocab = set(vocab_words)

    def predictions(path):
        for line in open(path, encoding="utf-8"):
            if line.split():
                yield from (w if w in vocab else "<UNK>" for w in line.split())
                yield "</S>"

    counts = Counter(predictions(train_file))
    total = sum(counts.values())
    heldout = list(predictions(heldout_file))
    return math.exp(-sum(math.log((counts[w] + 1) / (total + len(vocab))) for w in heldout) / len(heldout))


def test_training_on_real_text_beats_the_unigram_model(one_thread, corpus, tmp_path):
    train_file, heldout_file = corpus
    config = TrainingConfig(batch_size=32, max_steps=200, optimizer="adam", learning_rate=0.01, n_negative_samples=0,
                            min_count=2, log_every=50, checkpoint_every=200)
    result = train(train_file, tmp_path, ElmoOptions.from_dict(TINY_OPTIONS), config, heldout_data=heldout_file,
                   progress=False)
    vocab = open(tmp_path / "vocab.txt", encoding="utf-8").read().split()
    unigram = _unigram_perplexity(train_file, heldout_file, vocab)
    heldout = result.heldout
    assert unigram > 150  # the task is not trivial
    # Far below the unigram model in both directions, but no leak of the predicted word (ppl near 1).
    assert 10 < heldout.forward < 0.7 * unigram and 10 < heldout.backward < 0.7 * unigram
    assert heldout.average == pytest.approx(math.sqrt(heldout.forward * heldout.backward))
    assert json.load(open(tmp_path / "heldout.json"))["average"] == pytest.approx(heldout.average)
    # The exported files score the same text the same way.
    again = evaluate_files(tmp_path / "options.json", tmp_path / "weights.hdf5", tmp_path / "vocab.txt", heldout_file)
    assert again.average == pytest.approx(heldout.average, rel=1e-6)
    losses = [json.loads(line)["loss"] for line in open(tmp_path / "metrics.jsonl")]
    assert len(losses) == 4 and losses[-1] < losses[0]


def test_sampled_softmax_training_beats_the_unigram_model(one_thread, corpus, tmp_path):
    """bilm-tf's default objective: 256 log-uniform negatives per batch instead of the full
    softmax over ~1,850 words still learns (scored with the full softmax)."""
    train_file, heldout_file = corpus
    config = TrainingConfig(batch_size=32, max_steps=200, optimizer="adam", learning_rate=0.01,
                            n_negative_samples=256, min_count=2, log_every=100, checkpoint_every=200)
    result = train(train_file, tmp_path, ElmoOptions.from_dict(TINY_OPTIONS), config, heldout_data=heldout_file,
                   progress=False)
    vocab = open(tmp_path / "vocab.txt", encoding="utf-8").read().split()
    assert len(vocab) > 4 * 256  # the negatives are a sample, not the vocabulary
    assert 10 < result.heldout.average < 0.75 * _unigram_perplexity(train_file, heldout_file, vocab)


RESUME_SETTINGS = dict(batch_size=8, dropout=0.1, n_negative_samples=64, pool_batches=3, log_every=1, seed=5)


def _losses(directory):
    return [(m["step"], m["loss"]) for m in map(json.loads, open(directory / "metrics.jsonl"))]


def test_resume_continues_exactly(one_thread, corpus, tmp_path):
    train_file, _ = corpus
    options = ElmoOptions.from_dict(TINY_OPTIONS)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train(train_file, whole, options, TrainingConfig(max_steps=12, checkpoint_every=100, **RESUME_SETTINGS),
          progress=False)
    train(train_file, parts, options, TrainingConfig(max_steps=5, checkpoint_every=100, **RESUME_SETTINGS),
          progress=False)
    options_again, config = resolve_settings(parts, overrides={"max_steps": 12}, resume=True)
    result = train(train_file, parts, options_again, config, resume=True, progress=False)
    assert result.step == 12 and result.completed
    assert _losses(parts) == _losses(whole)
    weights_whole, weights_parts = read_datasets(whole / "weights.hdf5"), read_datasets(parts / "weights.hdf5")
    assert all((weights_whole[name] == weights_parts[name]).all() for name in weights_whole)


def test_run_directory_rules(one_thread, corpus, tmp_path):
    train_file, _ = corpus
    options = ElmoOptions.from_dict(TINY_OPTIONS)
    with pytest.raises(ConfigurationError, match="train_config.json: not found"):
        resolve_settings(tmp_path / "none", resume=True)
    config = TrainingConfig(max_steps=1, **RESUME_SETTINGS)
    train(train_file, tmp_path / "run", options, config, progress=False)
    with pytest.raises(ConfigurationError, match="already holds a run"):
        train(train_file, tmp_path / "run", options, config, progress=False)
    with pytest.raises(ConfigurationError, match=r"cannot resume with batch_size=9: the run was started with 8"):
        resolve_settings(tmp_path / "run", overrides={"batch_size": 9}, resume=True)
    other = ElmoOptions.from_dict({**TINY_OPTIONS, "lstm": {**TINY_OPTIONS["lstm"], "dim": 64}})
    with pytest.raises(ConfigurationError, match="another architecture"):
        resolve_settings(tmp_path / "run", other, resume=True)
    other_text = tmp_path / "other.txt"  # resume compares contents, not names (test_nothing_clobbered.py)
    other_text.write_text("a b c .\n" * 20, encoding="utf-8")
    options_again, config_again = resolve_settings(tmp_path / "run", overrides={"max_steps": 2}, resume=True)
    with pytest.raises(ConfigurationError, match="another corpus than the run"):
        train(str(other_text), tmp_path / "run", options_again, config_again, resume=True, progress=False)
