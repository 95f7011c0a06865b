"""The Playground page: its state, kernel editor, controls and view."""
