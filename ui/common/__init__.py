"""What the pages share: inputs, figures, the inspector, the compute front, share links, errors."""
