"""Settings for every test: errors that a handler catches without naming them fail the test that met them."""

import os

from cnn_core.errors import STRICT_ENV

# Before any app module runs (and inherited by the servers the browser tests start): see cnn_core/errors.py.
os.environ[STRICT_ENV] = "1"
