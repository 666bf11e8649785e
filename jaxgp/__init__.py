"""jaxgp: genetic-programming search for image-classification losses, batched and jitted in JAX."""

from jaxgp.errors import ConfigError, DatasetNotReadyError, ExpressionError, JaxgpError

__all__ = ["ConfigError", "DatasetNotReadyError", "ExpressionError", "JaxgpError"]
