"""Coreference (Lee et al. 2017): documents, candidate spans, the span-ranking model, the
CoNLL-2012 reader and writer, and the MUC / B-cubed / CEAF-e scores."""
