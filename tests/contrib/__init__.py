"""Tests of penstock.contrib."""
