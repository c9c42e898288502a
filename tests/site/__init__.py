"""Tests of the project's own documentation site."""
