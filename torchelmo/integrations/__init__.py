"""Integrations of torchelmo with other libraries; they use torchelmo's public API only, and the
inference core never imports them."""
