"""Long sentences in overlapping windows (``--window``): planning, stitching, bounded batches."""
import h5py
import numpy as np
import pytest

from torchelmo import ElmoEmbedder
from torchelmo.cli import main
from torchelmo.embed_job import EmbedSettings, run_embedding_job
from torchelmo.errors import ConfigurationError, ResumeError
from torchelmo.sentences import open_sentence_file
from torchelmo.windows import Windowing

WORDS = "the a cat dog sat ran on under mat tree quickly slowly . , and but".split()


def sentence(length, seed=0):
    return list(np.random.default_rng(seed).choice(WORDS, size=length))


@pytest.mark.parametrize("size,overlap", [(1, 0), (2, 0), (5, 2), (8, 0), (8, 3), (64, 16), (64, 31)])
def test_plan_takes_every_token_once_from_the_window_with_most_context(size, overlap):
    windowing = Windowing.from_settings(size, overlap)
    for length in list(range(0, 3 * size + 4)) + [5000]:
        windows = windowing.plan(length)
        if length <= size:
            assert windows == [windows[0]] and (windows[0].start, windows[0].end) == (0, length)
            continue
        assert all(w.end - w.start == size for w in windows) and windows[-1].end == length
        kept = [t for w in windows for t in range(w.keep_start, w.keep_end)]
        assert kept == list(range(length))  # every token exactly once, in order
        for w in windows:
            assert w.start <= w.keep_start <= w.keep_end <= w.end
        for left, right in zip(windows, windows[1:]):
            assert right.start - left.start >= 1 and left.end - right.start >= overlap  # they overlap by K or more
            assert right.start <= left.keep_end <= left.end  # the hand-over lies in the overlap ...
            # ... in its middle: each token has the most context on both sides in the window it comes from
        for w in windows:
            for t in range(w.keep_start, w.keep_end):
                context = min(t - w.start, w.end - 1 - t)
                assert context == max(min(t - o.start, o.end - 1 - t) for o in windows if o.start <= t < o.end)


@pytest.mark.parametrize("window,overlap", [(-1, None), (0, 4), (8, 4), (8, -1), (1, 1)])
def test_bad_settings_are_refused(window, overlap):
    with pytest.raises(ConfigurationError, match="window"):
        Windowing.from_settings(window, overlap)
    with pytest.raises(ConfigurationError, match="window"):
        EmbedSettings(window=window, window_overlap=overlap)


def test_default_overlap_is_a_quarter():
    assert EmbedSettings(window=64).window_overlap == 16 and EmbedSettings().window_overlap is None


@pytest.mark.parametrize("state", ["carry", "zero"])
def test_sentences_within_the_window_are_unchanged_bit_for_bit(options_file, weight_file, state):
    sentences = [sentence(n, seed=n) for n in (3, 12, 1, 12, 7, 9, 12, 2)]
    plain = list(ElmoEmbedder(options_file, weight_file, state=state).embed_sentences(sentences, batch_size=3))
    windowed = list(ElmoEmbedder(options_file, weight_file, state=state).embed_sentences(
        sentences, batch_size=3, window=12, window_overlap=3))
    assert all(np.array_equal(a, b) for a, b in zip(plain, windowed))


def test_windowed_sentence_is_its_windows_stitched(options_file, weight_file):
    """With state zero every window is an independent sentence: each token's vectors are
    exactly those of the window it is taken from; short sentences beside it are untouched."""
    embedder = ElmoEmbedder(options_file, weight_file, state="zero")
    long, short = sentence(70, seed=1), sentence(5, seed=2)
    windowed = embedder.embed_batch([short, long], window=16, window_overlap=4)
    assert windowed[1].shape == (3, 70, embedder.output_dim)
    plan = Windowing(16, 4).plan(70)
    *alone, full = embedder.embed_batch([short] + [long[w.start:w.end] for w in plan] + [long])
    assert np.array_equal(windowed[0], alone[0])
    for w, vectors in zip(plan, alone[1:]):
        assert np.array_equal(windowed[1][:, w.keep_start:w.keep_end],
                              vectors[:, w.keep_start - w.start:w.keep_end - w.start])
    assert np.array_equal(windowed[1][0], full[0])  # the token layer has no context
    assert not np.array_equal(windowed[1][1:], full[1:])


@pytest.mark.parametrize("state,batch_size,length", [("zero", 32, 5000), ("carry", 8, 1200)])
def test_long_sentence_reaches_the_bilm_in_bounded_batches(options_file, weight_file, tmp_path, state,
                                                           batch_size, length):
    """Through embed_file, the biLM never gets more than one batch of batch-size rows of at
    most window tokens at a time, whatever the sentence's length."""
    embedder = ElmoEmbedder(options_file, weight_file, state=state)
    seen = []
    original = embedder.bilm.embed_batches

    def recording(batches):
        seen.append(batches)
        return original(batches)

    embedder.bilm.embed_batches = recording
    source = tmp_path / "in.txt"
    source.write_text("a b c\n" + " ".join(sentence(length)) + "\n" + " ".join(sentence(40)) + "\n")
    embedder.embed_file(str(source), tmp_path / "out.hdf5", batch_size=batch_size, window=64, progress=False)
    windows = len(Windowing(64, 16).plan(length))
    assert sum(len(batch) for batches in seen for batch in batches) == 2 + windows
    assert len(seen) > 1 and all(len(batches) == 1 for batches in seen)
    assert all(len(batch) <= batch_size and all(len(s) <= 64 for s in batch) for batches in seen for batch in batches)
    with h5py.File(tmp_path / "out.hdf5", "r") as f:
        assert [f[k].shape for k in "012"] == [(3, 3, 32), (3, length, 32), (3, 40, 32)]
        assert (f.attrs["torchelmo_window"], f.attrs["torchelmo_window_overlap"]) == (64, 16)


def test_cli_window_on_a_5000_token_sentence(tmp_path, model_args, capsys):
    source = tmp_path / "in.txt"
    source.write_text(" ".join(sentence(5000)) + "\nthe cat sat .\n")
    out = tmp_path / "out.hdf5"
    assert main(["embed", str(source), str(out), "--top", *model_args]) == 2  # the limit applies without
    err = capsys.readouterr().err
    assert "line 1 has 5000 tokens, more than the limit of 1000" in err
    assert err.rstrip().endswith("embed them in windows with --window N, or raise --max-sentence-length")
    assert main(["embed", str(source), str(out), "--top", "--window", "128", "--window-overlap", "8",
                 "--state", "zero", *model_args]) == 0
    with h5py.File(out, "r") as f:
        assert f["0"].shape == (5000, 32) and f["1"].shape == (4, 32)
        assert (f.attrs["torchelmo_window"], f.attrs["torchelmo_window_overlap"]) == (128, 8)
    assert main(["embed", str(source), str(tmp_path / "o2.hdf5"), "--top", "--window", "128",
                 "--max-sentence-length", "4000", *model_args]) == 2  # an explicit limit still applies
    assert "more than the limit of 4000" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--window", "8", "--window-overlap", "4"], ["--window-overlap", "2"],
                                   ["--window", "-3"]])
def test_cli_bad_window_flags_give_one_line(tmp_path, model_args, capsys, flags):
    source = tmp_path / "in.txt"
    source.write_text("the cat sat .\n")
    assert main(["embed", str(source), str(tmp_path / "o.hdf5"), "--all", *flags, *model_args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("torchelmo: error: window")
    assert not (tmp_path / "o.hdf5").exists()


def test_resume_with_another_window_is_refused(options_file, weight_file, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("\n".join(" ".join(sentence(20, seed=i)) for i in range(4)) + "\n")
    embedder = ElmoEmbedder(options_file, weight_file)
    original = embedder.embed_batches

    def failing(batches, *window):
        if failing.calls == 1:
            raise KeyboardInterrupt
        failing.calls += 1
        return original(batches, *window)

    failing.calls = 0
    embedder.embed_batches = failing
    out = tmp_path / "out.hdf5"
    with pytest.raises(Exception, match="finished work is kept"):
        embedder.embed_file(str(source), out, batch_size=2, checkpoint_every=1, window=16, progress=False)
    embedder.embed_batches = original
    with pytest.raises(ResumeError, match=r"settings.window \(16 then, 20 now\)"):
        embedder.embed_file(str(source), out, batch_size=2, checkpoint_every=1, window=20, resume=True)
    embedder.embed_file(str(source), out, batch_size=2, checkpoint_every=1, window=16, resume=True)
    with h5py.File(out, "r") as f:
        assert f["3"].shape == (3, 20, 32)


def test_carry_windows_cannot_be_sharded(options_file, weight_file, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("the cat\n")
    with pytest.raises(ConfigurationError, match="cannot be sharded"):
        run_embedding_job(ElmoEmbedder(options_file, weight_file), open_sentence_file(str(source)),
                          tmp_path / "o.hdf5", EmbedSettings(window=8), rank=0, world_size=2)
