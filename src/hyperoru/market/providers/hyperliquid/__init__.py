"""Hyperliquid public info API (mainnet or testnet)."""
