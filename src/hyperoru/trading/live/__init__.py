"""Live execution: orders journalled before they reach a venue, venue fills into the paper
ledger's tables, reconciliation, risk limits, the kill switch and the dead-man switch."""
