"""Node side of the node RPC procedures, one module per area.

node, files, jobqueue and hooks (node-level procedures); instances, block
devices, OS definitions and storage (instance-level procedures).
"""
