"""User programs (contract §12): stored strategies and the sandbox that runs them."""
