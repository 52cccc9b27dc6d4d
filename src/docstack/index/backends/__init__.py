"""Document Index backends: one module per engine."""
