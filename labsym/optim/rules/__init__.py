"""Rule modules, one per phase family; optim/phases.py lists them in pipeline order."""
