"""Voice engines behind one contract (contract.py), one module per engine; voiceover.py chooses among them."""
