"""Tests of jaxgp.models."""
