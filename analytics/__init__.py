"""Reports on what the daemon made and what it cost."""
