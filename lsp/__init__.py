"""pygls language server for mpac-bridge."""
