"""Training code: data, augmentation, model, train, evaluate, export."""
