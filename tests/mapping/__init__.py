"""Tests of pdmc.mapping."""
