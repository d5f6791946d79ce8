"""The daemon: the composition root that wires every room together, plans batches and runs the schedule."""
