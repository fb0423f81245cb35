"""`python -m monitor` = `onda`."""

from monitor.cli import main

raise SystemExit(main())
