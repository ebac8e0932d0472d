"""Training data: the bilm-tf vocabulary format, batches, sharding and exact data positions."""
from collections import Counter

import numpy as np
import pytest
import torch

from torchelmo import ConfigurationError, InputError, batch_to_ids
from torchelmo.training.corpus import BatchStream, DataPosition, make_batch, resolve_files
from torchelmo.training.vocab import Vocabulary, build_vocabulary, count_tokens


def _vocab(*words: str) -> Vocabulary:
    return Vocabulary(["<S>", "</S>", "<UNK>", *words])


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_built_vocabulary_puts_specials_first_then_words_by_count():
    counts = count_tokens([["b", "a", "b"], ["c", "b", "a"], ["d"]])
    vocab = build_vocabulary(counts)
    assert vocab.words == ["<S>", "</S>", "<UNK>", "b", "a", "c", "d"]
    assert (vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2)
    assert build_vocabulary(counts, min_count=2).words == ["<S>", "</S>", "<UNK>", "b", "a"]
    assert build_vocabulary(counts, max_size=4).words == ["<S>", "</S>", "<UNK>", "b"]
    with pytest.raises(InputError, match="at least 5 times"):
        build_vocabulary(counts, min_count=5)


def test_vocabulary_file_round_trip_and_errors(tmp_path):
    vocab = _vocab("the", "caf\u00e9")
    vocab.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text(encoding="utf-8") == "<S>\n</S>\n<UNK>\nthe\ncaf\u00e9\n"
    assert Vocabulary.from_file(tmp_path / "vocab.txt") == vocab
    assert vocab.encode(["the", "dog", "caf\u00e9"]) == [3, 2, 4]

    _write_lines(tmp_path / "nospecial.txt", ["<S>", "</S>", "the"])
    with pytest.raises(ConfigurationError, match=r"nospecial.txt: .*missing the special token\(s\) <UNK>"):
        Vocabulary.from_file(tmp_path / "nospecial.txt")
    _write_lines(tmp_path / "dup.txt", ["<S>", "</S>", "<UNK>", "the", "a", "the"])
    with pytest.raises(ConfigurationError, match=r"dup.txt: .*'the' appears twice \(entries 4 and 6\)"):
        Vocabulary.from_file(tmp_path / "dup.txt")
    _write_lines(tmp_path / "blank.txt", ["<S>", "</S>", "", "<UNK>"])
    with pytest.raises(ConfigurationError, match="blank.txt: line 3 is blank"):
        Vocabulary.from_file(tmp_path / "blank.txt")
    with pytest.raises(ConfigurationError, match="vocabulary file not found"):
        Vocabulary.from_file(tmp_path / "missing.txt")


def test_batch_inputs_match_inference_encoding_and_targets_frame_sentences():
    vocab = _vocab("the", "cat", "sat")
    sentences = [["the", "cat", "sat"], ["a", "zebra\u00e9"], ["<UNK>"]]
    batch = make_batch(sentences, vocab, DataPosition())
    # Out-of-vocabulary words keep their own characters: the input is exactly what inference sees.
    assert torch.equal(batch.char_ids.long(), batch_to_ids(sentences))
    assert batch.targets.tolist() == [[0, 3, 4, 5, 1], [0, 2, 2, 1, -1], [0, 2, 1, -1, -1]]
    assert batch.num_tokens == 6


def _sentences_read(files, vocab, world_size, **kwargs):
    seen = []
    for rank in range(world_size):
        for batch in BatchStream(files, vocab, 3, rank=rank, world_size=world_size, epochs=1, pool_batches=2,
                                 **kwargs):
            for row in batch.targets.tolist():
                seen.append(tuple(w for w in row[1:] if w >= 0)[:-1])
    return seen


@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_ranks_read_disjoint_shards_that_cover_the_corpus(tmp_path, world_size):
    words = [f"w{i}" for i in range(40)]
    vocab = _vocab(*words)
    lines_a = [" ".join(words[i:i + 1 + i % 5]) for i in range(0, 30)]
    lines_b = [" ".join(words[i % 7:i % 7 + 3]) for i in range(17)] + ["", "   "]  # blank lines are skipped
    files = [_write_lines(tmp_path / "a.txt", lines_a), _write_lines(tmp_path / "b.txt", lines_b)]
    expected = Counter(tuple(vocab.encode(line.split())) for line in lines_a + lines_b if line.strip())
    assert Counter(_sentences_read(files, vocab, world_size)) == expected


def test_long_sentences_are_cut_into_pieces(tmp_path):
    vocab = _vocab(*"abcdefg")
    path = _write_lines(tmp_path / "long.txt", ["a b c d e f g"])
    pieces = sorted(_sentences_read([path], vocab, 1, max_length=3))
    assert pieces == sorted([tuple(vocab.encode(p)) for p in (["a", "b", "c"], ["d", "e", "f"], ["g"])])


def test_a_saved_position_continues_with_exactly_the_same_batches(tmp_path):
    words = [f"w{i}" for i in range(30)]
    vocab = _vocab(*words)
    files = [_write_lines(tmp_path / f"{name}.txt", [" ".join(words[i:i + 2 + (i * 7) % 9]) for i in range(n)])
             for name, n in (("a", 23), ("b", 11))]

    def stream(position=None):
        return iter(BatchStream(files, vocab, 2, rank=1, world_size=2, seed=3, pool_batches=2, position=position))

    reference = stream()
    batches = [next(reference) for _ in range(40)]  # several pools, files and epochs
    assert len({b.position.epoch for b in batches}) > 1
    for k in (1, 2, 5, 13, 27):
        resumed = stream(batches[k - 1].position)
        for expected in batches[k:k + 8]:
            got = next(resumed)
            assert torch.equal(got.targets, expected.targets) and got.position == expected.position


def test_input_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"--train-data '.*nothing\*.txt': no files match"):
        resolve_files(str(tmp_path / "nothing*.txt"), "--train-data")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\nbad \xff byte\n")
    with pytest.raises(InputError, match=r"bad.txt: the line starting at byte 10 is not valid UTF-8"):
        list(BatchStream([str(bad)], _vocab("good"), 4, epochs=1))
    empty = _write_lines(tmp_path / "empty.txt", ["", " "])
    with pytest.raises(InputError, match="found no sentences"):
        next(iter(BatchStream([empty], _vocab(), 4)))


def test_char_table_covers_every_word():
    vocab = _vocab("x" * 60, "\u00e9t\u00e9")
    assert vocab.char_table.dtype == np.int16
    assert torch.equal(torch.from_numpy(vocab.char_table).long(), batch_to_ids([vocab.words])[0])
