"""The GPU run (run, its parts and results) and the deviceless compile for a GPU target."""
