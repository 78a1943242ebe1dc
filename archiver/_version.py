"""The version, apart from the package API so that any module can name it without importing it all."""

__version__ = "0.1.0"
