"""The factor engine: an expression language over candles, the built-in catalogue,
users' custom factors and their measured effectiveness (docs/FACTORS.md)."""
