"""One-off questions (K dependence, the priors language, screening, early stopping), each
answered in the RESULTS.md section its docstring names."""
