"""Notebook 07 (optimizers and losses): the update rules in NumPy, the fair race, its results file and its plots."""
