"""Signal definitions, signal pools, strategy bindings and their evaluation (contract §11)."""
