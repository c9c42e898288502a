"""penstock's test suite."""
