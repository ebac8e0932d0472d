"""Integrations of torchelmo with other libraries (the spaCy component, the ONNX exporter); they
use torchelmo's public API only, and the inference core never imports them."""
