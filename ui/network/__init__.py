"""The Trained network page: input, maps, answer and Grad-CAM."""
