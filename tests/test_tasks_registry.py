"""The task registry: a model is one decorated class and its config; the built-ins are listed
in one fixed order whatever was imported first; the biLM hands the task cache and the LM
trainer what they need through public methods."""
from dataclasses import dataclass

import pytest
import torch

from torchelmo import ElmoBiLm, batch_to_ids
from torchelmo.errors import ConfigurationError
from torchelmo.tasks import parse_config, registry
from torchelmo.tasks.embedders.config import EmbeddersConfig
from torchelmo.tasks.models.base import TaskModel
from torchelmo.tasks.models.tagger import TaggerConfig  # imported before the registry loads the rest
from torchelmo.tasks.schema import POSITIVE, check


def task(model_type: str, reader: str = "conllu", **model):
    return {"data": {"reader": {"type": reader}, "train": {"path": "t"}, "validation": {"path": "v"}},
            "model": {"type": model_type, "embedders": {"words": {"dim": 4}}, **model}}


def test_built_in_types_are_listed_in_registry_order():
    assert TaggerConfig in registry.model_configs()
    assert [registry.config_type(c) for c in registry.model_configs()] == [
        "classifier", "tagger", "parser", "coreference", "pair_classifier", "span_qa"]
    assert [registry.config_type(c) for c in registry.reader_configs()] == [
        "conllu", "columns", "classification", "conll2012", "sentiment_trees", "propbank", "pair", "squad"]


@pytest.fixture
def scratch_registry(monkeypatch):
    registry.model_configs()  # the built-ins, loaded once
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))


def test_a_new_model_is_one_class_and_its_config(scratch_registry):
    @dataclass
    class EchoConfig:
        embedders: EmbeddersConfig
        type: str = "echo"
        size: int = check(POSITIVE, default=3)

    @registry.register_model(EchoConfig, reads=("conllu",))
    class Echo(TaskModel):
        pass

    config = parse_config(task("echo", size=5))
    assert isinstance(config.model, EchoConfig) and config.model.size == 5
    assert registry.model_class("echo") is Echo and registry.reader_types_of("echo") == ("conllu",)
    with pytest.raises(ConfigurationError, match="model.size: expected positive int, got -1"):
        parse_config(task("echo", size=-1))
    with pytest.raises(ConfigurationError, match="data.reader.type: a echo reads 'conllu' data, got 'squad'"):
        parse_config(task("echo", reader="squad"))
    with pytest.raises(TypeError, match="needs a field 'type"):
        registry.register_model(dataclass(type("NoType", (), {"__annotations__": {"x": int}})), reads=())(Echo)


def test_the_bilm_gives_its_token_layer_and_layer_zero(options_file, weight_file):
    bilm = ElmoBiLm.from_files(options_file, weight_file, state="zero")
    activations = bilm(batch_to_ids([["a", "b", "c"], ["d"]]))["activations"]
    token_layer = bilm.token_layer_of(activations)
    assert token_layer.shape == (2, 5, bilm.token_dim) and 2 * bilm.token_dim == bilm.output_dim
    assert torch.equal(bilm.layer_zero(token_layer), activations[0])


def test_training_start_and_dropout_are_set_through_the_bilm(options_file):
    from torchelmo import ElmoOptions
    bilm = ElmoBiLm(ElmoOptions.from_file(options_file), state="zero", requires_grad=True)
    bilm.initialize_for_training(carry_bias=-2.0)
    bilm.set_training_dropout(0.25)
    embedding = bilm.char_encoder.char_embedding.weight
    assert embedding[0].abs().sum() == 0 and embedding.abs().max() <= 1.0 and embedding[1:].std() > 0.3
    highway = bilm.char_encoder.highway
    assert all(torch.all(layer.bias[highway.dim:] == -2.0) for layer in highway.layers)
    assert bilm.lstm.dropout == 0.25
