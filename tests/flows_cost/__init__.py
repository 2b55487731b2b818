"""Cost tests of flows: API calls, Pipedrive tokens and memory, counted on the emulator."""
