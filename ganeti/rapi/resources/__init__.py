"""RAPI resources, one module per area; ``common`` holds the shared shapes."""
