"""Results files, the comparison with the paper, and (later) figures and reports."""
