"""jaxgp against the thesis's Keras way: compare, its two sides, and the Keras-only scripts."""
