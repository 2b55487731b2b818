"""Tests of pdmc.emulator: the shared infrastructure, seeding, the docs and the serve command."""
