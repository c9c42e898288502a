"""Tests of penstock.backends."""
