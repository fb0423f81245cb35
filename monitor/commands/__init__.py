"""The `onda` commands; `monitor.cli` parses the arguments and calls them.

- common.py  exit codes, UserError, opening brands and inputs, the scorer with stored debunks
- score.py   `onda score`, `onda eval`
- init.py    `onda init` and the first-run offer
- data.py    `onda data update`, `onda data import-factchecks`
- brand.py   `onda brand import`, `onda brand export`, `onda brand history`

`onda watch` and `onda tui` live in monitor.watch and tui.run; the CLI calls them directly.
"""
