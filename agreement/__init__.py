"""Inter-annotator agreement: coefficients (pure) and, later, the study report."""
