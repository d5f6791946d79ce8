"""The job engine: the queue, the ledger, provider health and alerts, the job runner and the worker loop; the path
from claim to settlement stays in this room."""
