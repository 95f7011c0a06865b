"""The Train page: class folders, the training child process and its live view."""
