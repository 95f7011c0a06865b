"""The Your model page: loading a model safely, its maps and inspector."""
