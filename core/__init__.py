"""Engine of the daemon: settings, storage, queue, budget, logging, orchestration."""
