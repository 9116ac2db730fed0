"""Training: configuration (file + flags), deterministic batches, the co-training loop, checkpoints."""
