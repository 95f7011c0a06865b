"""The unit page: one unit's top images, feature visualisation and Grad-CAM."""
