"""Tests of pdmc.storage: the conformance suite on every store, migrations, crashes, races."""
