"""The training objective: softmax (full and sampled), causal alignment of both LMs, dropout."""
import math

import pytest
import torch
from torch.nn import functional as F

from torchelmo import ElmoOptions
from torchelmo.training.corpus import DataPosition, make_batch
from torchelmo.training.model import BidirectionalLM
from torchelmo.training.softmax import Softmax, log_uniform_probabilities, sample_log_uniform
from torchelmo.training.vocab import Vocabulary
from training_support import TINY_OPTIONS


def test_full_loss_is_cross_entropy_over_the_vocabulary():
    torch.manual_seed(0)
    softmax = Softmax(30, 6)
    hidden, targets = torch.randn(11, 6), torch.randint(0, 30, (11,))
    logits = hidden @ softmax.weight.T + softmax.bias
    expected = -logits.log_softmax(-1).gather(1, targets[:, None])[:, 0]
    assert torch.allclose(softmax.full_loss(hidden, targets, chunk_size=4), expected, atol=1e-6)


def test_log_uniform_sampler_follows_zipf():
    probabilities = log_uniform_probabilities(torch.arange(100), 100)
    assert math.isclose(float(probabilities.sum()), 1.0, rel_tol=1e-6)
    assert math.isclose(float(probabilities[0]), math.log(2) / math.log(101), rel_tol=1e-6)
    torch.manual_seed(0)
    samples = sample_log_uniform(100, 400_000, torch.device("cpu"))
    frequencies = torch.bincount(samples, minlength=100).float() / samples.numel()
    assert samples.min() >= 0 and samples.max() <= 99
    assert torch.allclose(frequencies, probabilities, atol=2e-3)


def test_sampled_softmax_gradient_approaches_the_full_softmax_gradient():
    torch.manual_seed(0)
    softmax = Softmax(50, 8)
    with torch.no_grad():
        softmax.weight.mul_(3)
    targets = torch.randint(0, 50, (20,))
    hidden = torch.randn(20, 8, requires_grad=True)
    full, = torch.autograd.grad(softmax.full_loss(hidden, targets).sum(), hidden)
    few, = torch.autograd.grad(softmax.sampled_loss(hidden, targets, 10).sum(), hidden)
    many, = torch.autograd.grad(softmax.sampled_loss(hidden, targets, 20000).sum(), hidden)
    assert F.cosine_similarity(many, full, dim=1).min() > 0.99
    assert abs(float(many.norm() / full.norm()) - 1) < 0.05
    assert F.cosine_similarity(few, full, dim=1).min() < 0.99  # the comparison can tell them apart


def test_sampled_softmax_only_in_training_and_below_vocabulary_size():
    torch.manual_seed(0)
    softmax = Softmax(40, 4)
    hidden, targets = torch.randn(5, 4), torch.randint(0, 40, (5,))
    full = softmax.full_loss(hidden, targets)
    assert not torch.allclose(softmax.loss(hidden, targets, 8), full)
    assert torch.equal(softmax.loss(hidden, targets, 40), full)
    softmax.eval()
    assert torch.equal(softmax.loss(hidden, targets, 8), full)


@pytest.fixture(scope="module")
def model_and_vocab():
    torch.manual_seed(0)
    vocab = Vocabulary(["<S>", "</S>", "<UNK>", *"the cat sat on a mat dog ran".split()])
    model = BidirectionalLM(ElmoOptions.from_dict(TINY_OPTIONS), len(vocab))
    return model.eval(), vocab


def _losses(model, vocab, inputs, targets_from=None):
    """Losses for ``inputs``, scored against the words of ``targets_from`` (default: the inputs)."""
    batch = make_batch(inputs, vocab, DataPosition())
    targets = make_batch(targets_from or inputs, vocab, DataPosition()).targets
    with torch.no_grad():
        return model.token_losses(batch.char_ids.long(), targets)


def test_each_direction_predicts_from_its_own_side_only(model_and_vocab):
    model, vocab = model_and_vocab
    sentence = ["the", "cat", "sat", "on", "a", "mat"]
    forward, backward = _losses(model, vocab, [sentence, ["dog", "ran"]])
    assert forward.shape == backward.shape == (len(sentence) + 1 + 3,)  # n + 1 predictions per sentence
    # Replace the input word w3 but keep the targets: predictions that may see w3 change, others not.
    changed = ["the", "cat", "dog", "on", "a", "mat"]
    changed_forward, changed_backward = _losses(model, vocab, [changed, ["dog", "ran"]], [sentence, ["dog", "ran"]])
    # Forward prediction k (of w1 .. w6, </S>) sees <S> w1 .. w_{k}: those of w1, w2, w3 do not see w3.
    assert torch.allclose(changed_forward[:3], forward[:3])
    assert not torch.isclose(changed_forward[3:7], forward[3:7]).any()
    # Backward prediction k (of <S>, w1 .. w6) sees w_{k+1} .. </S>: those of w3 .. w6 do not see w3.
    assert torch.allclose(changed_backward[3:7], backward[3:7])
    assert not torch.isclose(changed_backward[:3], backward[:3]).any()
    # Batch-mates do not interact.
    alone_forward, alone_backward = _losses(model, vocab, [sentence])
    assert torch.allclose(alone_forward, forward[:7], atol=1e-6)
    assert torch.allclose(alone_backward, backward[:7], atol=1e-6)


def test_dropout_acts_in_training_mode_only():
    torch.manual_seed(0)
    vocab = Vocabulary(["<S>", "</S>", "<UNK>", "a", "b"])
    model = BidirectionalLM(ElmoOptions.from_dict(TINY_OPTIONS), len(vocab), dropout=0.5)
    batch = make_batch([["a", "b", "a"]], vocab, DataPosition())
    char_ids = batch.char_ids.long()
    model.train()
    first, second = model(char_ids, batch.targets), model(char_ids, batch.targets)
    assert not torch.equal(first, second)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(char_ids, batch.targets), model(char_ids, batch.targets))
