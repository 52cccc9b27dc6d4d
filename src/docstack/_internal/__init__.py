"""Implementation details of docstack; nothing here is public API."""
