"""Real-time handwritten digit recognizer: frame -> candidates -> 28x28 batch -> predictions -> results."""
