"""labsym (facade being assembled)."""
