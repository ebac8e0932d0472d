"""Named models: download once into the cache from a (local) mirror, verify, clear errors offline."""
import functools
import http.server
import shutil
import socket
import threading

import h5py
import pytest

from torchelmo import ConfigurationError, ElmoEmbedder
from torchelmo.cli import main
from torchelmo.hub import PUBLISHED_MODELS, ModelDownloadError, resolve_model_files


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def do_GET(self):
        CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch, options_file, weight_file):
    """A local HTTP server on 127.0.0.1 laid out like AllenNLP's model bucket, serving the
    small real fixture model under the name 'small'."""
    root = tmp_path / "bucket"
    small = PUBLISHED_MODELS["small"]
    for source, relative in ((options_file, small.options_path), (weight_file, small.weights_path)):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    handler = functools.partial(CountingHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    CountingHandler.requests = []
    monkeypatch.setenv("TORCHELMO_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    yield root
    server.shutdown()


def test_download_once_then_use_the_cache(mirror, tmp_path):
    embedder = ElmoEmbedder(model="small")
    assert embedder.embed_sentence(["Hello", "."]).shape == (3, 2, 32)
    assert len(CountingHandler.requests) == 2
    assert (tmp_path / "cache" / "small" / "weights.hdf5").is_file()
    ElmoEmbedder(model="small")
    assert len(CountingHandler.requests) == 2  # cached: no new request


def test_cli_model_flag_records_the_model_name(mirror, tmp_path):
    (tmp_path / "in.txt").write_text("Hello world .\n")
    out = tmp_path / "out.hdf5"
    assert main(["embed", str(tmp_path / "in.txt"), str(out), "--top", "--model", "small"]) == 0
    with h5py.File(out, "r") as f:
        assert f.attrs["torchelmo_model"] == "small"
        assert f["0"].shape == (3, 32)


def test_corrupt_download_is_rejected(mirror, tmp_path):
    (mirror / PUBLISHED_MODELS["small"].weights_path).write_bytes(b"not an hdf5 file")
    with pytest.raises(ModelDownloadError, match="downloaded model is not valid"):
        resolve_model_files(model="small")
    assert not (tmp_path / "cache" / "small" / "weights.sha256").exists()
    assert sorted(p.name for p in (tmp_path / "cache" / "small").iterdir()) == ["options.json"]  # validated first


def test_offline_error_names_the_url_and_the_way_out(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TORCHELMO_MIRROR", f"http://127.0.0.1:{port}/")
    monkeypatch.setenv("TORCHELMO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelDownloadError) as error:
        resolve_model_files(model="medium")
    message = str(error.value)
    assert f"http://127.0.0.1:{port}/2x2048_256_2048cnn_1xhighway/" in message
    assert "options_file=" in message and "weight_file=" in message
    assert not list((tmp_path / "cache").rglob("*.download"))


def test_unknown_model_and_half_given_files():
    with pytest.raises(ConfigurationError, match="unknown model 'huge'; known models: default, small"):
        resolve_model_files(model="huge")
    with pytest.raises(ConfigurationError, match="both"):
        resolve_model_files("options.json", None)


def test_urls_are_accepted_like_allennlp(mirror, tmp_path):
    import os
    base = os.environ["TORCHELMO_MIRROR"]
    small = PUBLISHED_MODELS["small"]
    options, weights = resolve_model_files(base + small.options_path, base + small.weights_path)
    assert options.startswith(str(tmp_path / "cache" / "urls")) and weights.endswith("_weights.hdf5")
    resolve_model_files(base + small.options_path, base + small.weights_path)
    assert len(CountingHandler.requests) == 2
