"""Tests of the emulated Pipedrive."""
