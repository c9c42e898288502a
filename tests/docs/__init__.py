"""Tests of penstock_docs."""
