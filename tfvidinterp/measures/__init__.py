"""Measures in plain NumPy over arrays and explain's results records: the
paper's statistics and classification metrics, and faithfulness against
ground truth in time (`temporal`) and space (`spatial`)."""
