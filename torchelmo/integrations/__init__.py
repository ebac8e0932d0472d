"""Bridges from torchelmo to other tools, built on the public API (the ONNX exporter)."""
