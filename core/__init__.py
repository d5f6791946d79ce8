"""The ground floor every room stands on: settings, storage, errors, the home folder, secrets, logging."""
