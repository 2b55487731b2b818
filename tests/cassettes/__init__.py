"""vcrpy cassettes of the client tests, and the script that builds them from the contracts."""
