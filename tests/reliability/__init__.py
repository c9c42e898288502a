"""The reliability suite: failure isolation, concurrency, leaks, hostile input, bad code."""
