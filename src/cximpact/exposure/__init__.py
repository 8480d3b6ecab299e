"""exposure stage."""
