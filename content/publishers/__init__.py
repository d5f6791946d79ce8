"""Publishers: the contract every platform's posting API fulfils (contract.py), one module per platform, and media
hosting for the platforms that fetch a video from a link (hosting.py)."""
