"""Scan orchestration: targets and port lists as the command line gives them, and the scanner
that runs discovery and detection over them."""
