"""Side-by-side benchmarks of penstock against the minimum work it replaces."""
