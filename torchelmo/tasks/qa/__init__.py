"""Extractive question answering (SQuAD): questions and offsets, the BiDAF-style span model,
the SQuAD reader, and exact match / F1."""
