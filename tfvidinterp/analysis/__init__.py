"""Statistics, pictures and reports of explanations (paper §4.3, Figs. 2-4)."""
