"""Node RPC: the procedure table, the client, and the transport."""
