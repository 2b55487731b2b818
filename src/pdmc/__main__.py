"""``python -m pdmc``: the same command line as ``pdmc``."""

from pdmc.cli import main

raise SystemExit(main())
