"""The network layer: sockets under asyncio (transport, driver), TCP and UDP port discovery,
file-descriptor budgeting, and the TLS certificate reader. The engine above it is sans-IO."""
