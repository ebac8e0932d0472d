"""The Elmo module's contract (AllenNLP's): shapes, masks, options, caching, gradients, state."""
import numpy as np
import pytest
import torch

from torchelmo import Elmo, ElmoBiLm, ScalarMix, batch_to_ids

SENTENCES = [["The", "sentence", "."], ["ELMo", "helps", "disambiguate", "ELMo", "from", "Elmo", "."]]


@pytest.fixture
def elmo(options_file, weight_file):
    return Elmo(options_file, weight_file, 2, dropout=0.0)


def test_shapes_and_mask(elmo):
    output = elmo(batch_to_ids(SENTENCES))
    representations, mask = output["elmo_representations"], output["mask"]
    assert len(representations) == 2
    assert all(r.shape == (2, 7, 32) for r in representations)
    assert mask.dtype == torch.long and mask.tolist() == [[1, 1, 1, 0, 0, 0, 0], [1] * 7]
    assert representations[0][0, 3:].abs().sum() == 0  # padding is zero
    assert elmo.get_output_dim() == 32


def test_keep_sentence_boundaries(options_file, weight_file):
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0, keep_sentence_boundaries=True)
    output = elmo(batch_to_ids(SENTENCES))
    assert output["elmo_representations"][0].shape == (2, 9, 32)
    assert output["mask"].sum(dim=1).tolist() == [5, 9]


def test_higher_dimensional_input_equals_separate_batches(elmo):
    groups = [SENTENCES, [["1", "2"], ["1", "2", "3", "4", "5", "6", "7"]], [["1", "2", "3", "4", "50", "60", "70"], ["The"]]]
    ids = [batch_to_ids(g) for g in groups]
    stacked = torch.stack(ids, dim=1)  # (2, 3, 7, 50)
    output = elmo(stacked)
    assert output["elmo_representations"][0].shape == (2, 3, 7, 32) and output["mask"].shape == (2, 3, 7)
    for k, group_ids in enumerate(ids):
        elmo.reset_states()
        separate = elmo(group_ids)["elmo_representations"][0]
        assert torch.allclose(output["elmo_representations"][0][:, k], separate, atol=1e-6)


def test_prebuilt_module(options_file, weight_file):
    elmo = Elmo(None, None, 2, dropout=0.0, module=ElmoBiLm.from_files(options_file, weight_file))
    assert [r.shape for r in elmo(batch_to_ids(SENTENCES))["elmo_representations"]] == [(2, 7, 32)] * 2


def test_cached_vocabulary_gives_same_output(options_file, weight_file):
    sentences = [["This", "is", "a", "sentence"], ["Here", "'s", "one"], ["Another", "one"]]
    vocab = ["@@PADDING@@", "@@UNKNOWN@@"] + sorted({t for s in sentences for t in s})
    word_ids = torch.tensor([[vocab.index(t) for t in s] + [0] * (4 - len(s)) for s in sentences])
    char_ids = batch_to_ids(sentences)
    plain = Elmo(options_file, weight_file, 1, dropout=0.0)(char_ids)
    cached = Elmo(options_file, weight_file, 1, dropout=0.0, vocab_to_cache=vocab)(char_ids, word_ids)
    assert torch.equal(plain["mask"], cached["mask"])
    assert torch.allclose(plain["elmo_representations"][0], cached["elmo_representations"][0], atol=1e-6)
    # Higher-dimensional input with a cache.
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0, vocab_to_cache=vocab)
    expanded = elmo(torch.stack([char_ids] * 2, dim=1), torch.stack([word_ids] * 2, dim=1))
    assert expanded["elmo_representations"][0].shape == (3, 2, 4, 32)
    # Word ids outside the cache fall back to the character CNN instead of failing.
    out = elmo(char_ids, word_ids + 100)
    assert out["elmo_representations"][0].shape == (3, 4, 32)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_requires_grad(options_file, weight_file, requires_grad):
    elmo = Elmo(options_file, weight_file, 1, requires_grad=requires_grad)
    char_ids = torch.randint(0, 262, (3, 4, 50))
    elmo(char_ids)["elmo_representations"][0].sum().backward()
    bilm_grads = [p.grad for p in elmo._elmo_lstm.parameters()]
    if requires_grad:
        assert all(g is not None for g in bilm_grads)
    else:
        assert all(g is None for g in bilm_grads)
    assert elmo.scalar_mix_0.gamma.grad is not None  # the mix always trains


def test_fixed_scalar_mix_parameters_are_not_trained(options_file, weight_file):
    elmo = Elmo(options_file, weight_file, 1, scalar_mix_parameters=[0.0, 0.0, 1.0])
    assert not any(p.requires_grad for p in elmo.scalar_mix_0.parameters())


def test_dropout_only_in_training_mode(options_file, weight_file):
    elmo = Elmo(options_file, weight_file, 1, dropout=0.5, stateful=False)
    ids = batch_to_ids(SENTENCES)
    elmo.eval()
    a = elmo(ids)["elmo_representations"][0]
    assert torch.equal(a, elmo(ids)["elmo_representations"][0])
    elmo.train()
    b = elmo(ids)["elmo_representations"][0]
    kept = b != 0
    assert 0.3 < kept[a != 0].float().mean() < 0.7
    assert torch.allclose(b[kept], 2 * a[kept], atol=1e-6)


def test_state_carries_over_and_resets(options_file, weight_file):
    ids = batch_to_ids(SENTENCES)
    elmo = Elmo(options_file, weight_file, 1, dropout=0.0)
    first = elmo(ids)["elmo_representations"][0]
    second = elmo(ids)["elmo_representations"][0]
    assert not torch.allclose(first, second, atol=1e-5)
    elmo.reset_states()
    assert torch.allclose(elmo(ids)["elmo_representations"][0], first, atol=1e-7)
    stateless = Elmo(options_file, weight_file, 1, dropout=0.0, stateful=False)
    assert torch.allclose(stateless(ids)["elmo_representations"][0], first, atol=1e-6)
    assert torch.allclose(stateless(ids)["elmo_representations"][0], first, atol=1e-6)


def test_scalar_mix_weights_and_layer_norm():
    layers = [torch.full((1, 2, 3), v) for v in (1.0, 2.0, 4.0)]
    mix = ScalarMix(3, initial_scalar_parameters=[0.0, 0.0, np.log(2.0)])
    # softmax([0, 0, log 2]) = [1/4, 1/4, 1/2] -> 1/4 + 2/4 + 4/2 = 2.75
    assert torch.allclose(mix(layers), torch.full((1, 2, 3), 2.75))
    tensor = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    normed = ScalarMix(1, do_layer_norm=True)([tensor], mask)[0, :2]
    assert torch.allclose(normed.mean(), torch.tensor(0.0), atol=1e-6)
    assert torch.allclose(normed.pow(2).mean(), torch.tensor(1.0), atol=1e-5)
    with pytest.raises(ValueError):
        ScalarMix(2, initial_scalar_parameters=[1.0])
