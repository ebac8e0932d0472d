"""batch_to_ids: ELMo's character ids, worked out by hand from the encoding rules
(begin-of-word 258, UTF-8 bytes, end-of-word 259, padding 260, all +1; 48 bytes at most)."""
import pytest
import torch

from torchelmo import batch_to_ids

PAD = 261  # padding character 260, shifted by +1


def row(*ids):
    return list(ids) + [PAD] * (50 - len(ids))


def test_ascii_token():
    assert batch_to_ids([["a"]])[0, 0].tolist() == row(259, 98, 260)


def test_multibyte_unicode_token_uses_utf8_bytes():
    # "é" is C3 A9 in UTF-8 -> 195+1, 169+1; "日" is E6 97 A5.
    assert batch_to_ids([["é"]])[0, 0].tolist() == row(259, 196, 170, 260)
    assert batch_to_ids([["日"]])[0, 0].tolist() == row(259, 231, 152, 166, 260)


def test_sentence_boundary_tokens():
    assert batch_to_ids([["<S>"]])[0, 0].tolist() == row(259, 257, 260)
    assert batch_to_ids([["</S>"]])[0, 0].tolist() == row(259, 258, 260)


def test_long_token_truncated_to_48_bytes():
    ids = batch_to_ids([["x" * 60]])[0, 0].tolist()
    assert ids == [259] + [121] * 48 + [260]


def test_truncation_can_split_a_multibyte_character():
    # 47 ASCII bytes + "é" (2 bytes) = 49 bytes: only C3 survives the cut at 48.
    ids = batch_to_ids([["x" * 47 + "é"]])[0, 0].tolist()
    assert ids == [259] + [121] * 47 + [196, 260]


def test_unencodable_code_points_are_dropped():
    assert batch_to_ids([["\ud800a"]])[0, 0].tolist() == row(259, 98, 260)


def test_padding_and_shapes():
    ids = batch_to_ids([["First", "sentence", "."], ["Another", "."], []])
    assert ids.shape == (3, 3, 50) and ids.dtype == torch.long
    assert ids[1, 2].eq(0).all() and ids[2].eq(0).all()
    assert ids[1, 1].tolist() == row(259, 47, 260)
    assert batch_to_ids([]).shape == (0, 0, 50)


def test_rejects_untokenized_input():
    with pytest.raises(TypeError, match="tokenized"):
        batch_to_ids(["not", "tokenized"])


def test_char_ids_module_runs_without_torch():
    """torchelmo/char_ids.py (what batch_to_ids builds on) loads and works with torch unavailable."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import torchelmo

    path = Path(torchelmo.__file__).with_name("char_ids.py")
    code = ("import importlib.util, json, sys; sys.modules['torch'] = None; "
            f"spec = importlib.util.spec_from_file_location('char_ids', {str(path)!r}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
            "print(json.dumps(module.batch_char_ids([['a', 'é'], []])))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [[row(259, 98, 260), row(259, 196, 170, 260)], [[0] * 50, [0] * 50]]
