"""The TCP lab (L10): every speaker of a topology over real TCP, spread over processes."""
